#!/usr/bin/python3
"""PyTorch <-> tinyopt model-file interop, used by tests/test_torch_interop.cpp.

Builds models in PyTorch whose architectures differ from the reference ones,
writes them in tinyopt's file format (safetensors + config metadata) together
with an input and PyTorch's logits, or reads a tinyopt-written model into
PyTorch and writes PyTorch's logits for a given input. safetensors is written
by hand (8-byte length, JSON header, raw little-endian data) so nothing beyond
Debian's python3-torch and python3-numpy is needed.

  torch_interop.py export-sequential DIR   -> DIR/model.safetensors, DIR/input.npy, DIR/expected.npy
  torch_interop.py export-gpt DIR          -> same, for a nanoGPT-style model
  torch_interop.py logits MODEL INPUT OUT  -> PyTorch's logits for a tinyopt model file
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32"}
NP_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "I8": np.int8, "U8": np.uint8}


def save_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        arr = np.frombuffer(raw[base + b:base + e], dtype=NP_DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, meta


# ---- sequential models -------------------------------------------------------

def build_sequential(config):
    layers = []
    for spec in config["layers"]:
        kind = spec["type"]
        args = {k: v for k, v in spec.items() if k != "type"}
        cls = {"linear": nn.Linear, "conv2d": nn.Conv2d, "relu": nn.ReLU, "gelu": nn.GELU,
               "maxpool2d": nn.MaxPool2d, "flatten": nn.Flatten, "dropout": nn.Dropout}[kind]
        layers.append(cls(**args))
    return nn.Sequential(*layers)


def export_sequential(out_dir):
    torch.manual_seed(7)
    # Unlike the reference CNN: 3 input channels, non-square input, stride 2,
    # padding, a 5x5 kernel, a conv without bias, GELU, padded max pooling, dropout.
    config = {"arch": "sequential", "input_shape": [3, 17, 12], "layers": [
        {"type": "conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 5, "stride": 2, "padding": 2, "bias": False},
        {"type": "gelu"},
        {"type": "maxpool2d", "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "conv2d", "in_channels": 8, "out_channels": 6, "kernel_size": 1, "stride": 1, "padding": 0, "bias": True},
        {"type": "relu"},
        {"type": "flatten"},
        {"type": "dropout", "p": 0.25},
        {"type": "linear", "in_features": 6 * 5 * 3, "out_features": 13, "bias": True},
        {"type": "gelu"},
        {"type": "linear", "in_features": 13, "out_features": 7, "bias": False},
    ]}
    model = build_sequential(config).eval()
    x = torch.randn(5, 3, 17, 12)
    with torch.no_grad():
        y = model(x)
    save_safetensors(f"{out_dir}/model.safetensors", model.state_dict(), {"config": json.dumps(config)})
    np.save(f"{out_dir}/input.npy", x.numpy())
    np.save(f"{out_dir}/expected.npy", y.numpy())


# ---- nanoGPT-style model -----------------------------------------------------

class Block(nn.Module):
    def __init__(self, c, h, bias):
        super().__init__()
        self.n_head = h
        self.ln_1 = nn.LayerNorm(c)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(c, 3 * c, bias=bias)
        self.attn.c_proj = nn.Linear(c, c, bias=bias)
        self.ln_2 = nn.LayerNorm(c)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(c, 4 * c, bias=bias)
        self.mlp.c_proj = nn.Linear(4 * c, c, bias=bias)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(c, dim=2)
        q = q.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        k = k.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        v = v.view(b, t, self.n_head, c // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(torch.tril(torch.ones(t, t)) == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["n_embd"]
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(cfg["vocab_size"], c)
        self.transformer.wpe = nn.Embedding(cfg["block_size"], c)
        self.transformer.h = nn.ModuleList([Block(c, cfg["n_head"], cfg["bias"]) for _ in range(cfg["n_layer"])])
        self.transformer.ln_f = nn.LayerNorm(c)
        self.lm_head = nn.Linear(c, cfg["vocab_size"], bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def strip_layernorm_bias(state, cfg):
    # PyTorch 1.13's LayerNorm always has a bias; with bias=False configs we zero and drop it.
    if cfg["bias"]:
        return state
    return {k: v for k, v in state.items() if not (k.endswith(".bias") and ("ln_" in k))}


def export_gpt(out_dir):
    torch.manual_seed(11)
    # Unlike the reference GPT: 2 layers, 2 heads of 24, context 32, no biases
    # in the linears, an untied lm_head, a 23-symbol vocabulary with a non-ASCII character.
    vocab = list("abcdefghij klmnop\n.,!?") + ["é"]
    cfg = {"arch": "gpt", "vocab_size": len(vocab), "n_layer": 2, "n_head": 2, "n_embd": 48, "block_size": 32,
           "bias": False}
    model = GPT(cfg).eval()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.LayerNorm):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.zero_()
    idx = torch.randint(0, len(vocab), (3, 19))
    with torch.no_grad():
        y = model(idx)
    state = strip_layernorm_bias(model.state_dict(), cfg)
    save_safetensors(f"{out_dir}/model.safetensors", state,
                     {"config": json.dumps(cfg), "vocab": json.dumps(vocab, ensure_ascii=False)})
    np.save(f"{out_dir}/input.npy", idx.numpy())
    np.save(f"{out_dir}/expected.npy", y.numpy())


def logits(model_path, input_path, out_path):
    tensors, meta = load_safetensors(model_path)
    cfg = json.loads(meta["config"])
    x = torch.from_numpy(np.load(input_path))
    if cfg["arch"] == "sequential":
        model = build_sequential(cfg).eval()
        model.load_state_dict(tensors)
        shape = [x.shape[0]] + cfg["input_shape"]
        with torch.no_grad():
            y = model(x.reshape(shape))
    else:
        model = GPT(cfg).eval()
        if "lm_head.weight" not in tensors:
            tensors["lm_head.weight"] = tensors["transformer.wte.weight"]
        model.load_state_dict(tensors, strict=cfg["bias"])
        with torch.no_grad():
            y = model(x.long())
    np.save(out_path, y.numpy())


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "export-sequential":
        export_sequential(sys.argv[2])
    elif cmd == "export-gpt":
        export_gpt(sys.argv[2])
    elif cmd == "logits":
        logits(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {cmd}")
