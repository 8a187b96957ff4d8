"""Readers the PyTorch peer scripts share: tinyopt's safetensors model files
and Fashion-MNIST's gzip IDX files, with numpy only (no safetensors package
in Debian), so every peer loads exactly the bytes tinyopt loads."""
import gzip
import json
import struct

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "I8": np.int8}
FASHION = "/usr/share/datasets/fashion-mnist"


def load_safetensors(path):
    """Returns ({name: torch tensor}, metadata dict)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


def read_idx(path):
    """A gzip IDX file of u8 values as an array of its declared dims."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)
