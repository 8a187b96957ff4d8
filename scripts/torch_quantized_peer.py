#!/usr/bin/python3
"""PyTorch peer for `tinyopt quantize`: the same FP32 weights loaded into
PyTorch 1.13 (Debian's python3-torch), quantized with PyTorch's own static
post-training quantization (FX graph mode: conv/linear + ReLU fused,
activations quint8 per tensor with PyTorch's default observers for the
engine, weights qint8), calibrated on the same split as tinyopt (the first N
of the last 5,000 Fashion-MNIST training images), then FP32 and INT8 test
accuracy on all 10,000 test images and batch-1 / batch-64 latency (FP32 and
INT8 measured interleaved, medians).

    /usr/bin/python3 scripts/torch_quantized_peer.py --model benchmarks/cnn.safetensors --threads 2 [--engine onednn]
"""
import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from peer_common import FASHION, load_safetensors, read_idx


def build_sequential(config):
    layers = []
    for spec in config["layers"]:
        args = {k: v for k, v in spec.items() if k != "type"}
        cls = {"linear": nn.Linear, "conv2d": nn.Conv2d, "relu": nn.ReLU, "gelu": nn.GELU,
               "maxpool2d": nn.MaxPool2d, "flatten": nn.Flatten, "dropout": nn.Dropout}[spec["type"]]
        layers.append(cls(**args))
    return nn.Sequential(*layers)


def median_ms(samples):
    return float(np.median(samples)) * 1e3


def time_interleaved(fa, fb, x, seconds):
    with torch.no_grad():
        for _ in range(5):
            fa(x)
            fb(x)
        ta, tb, ratios = [], [], []
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds or i < 20:
            pair = [(fa, ta), (fb, tb)] if i % 2 == 0 else [(fb, tb), (fa, ta)]
            for f, out in pair:
                t0 = time.perf_counter()
                f(x)
                out.append(time.perf_counter() - t0)
            ratios.append(ta[-1] / tb[-1])
            i += 1
    return {"fp32_p50_ms": median_ms(ta), "int8_p50_ms": median_ms(tb), "speedup": float(np.median(ratios)), "pairs": i}


def accuracy(model, images, labels):
    correct = 0
    with torch.no_grad():
        for b in range(0, len(images), 500):
            correct += int((model(images[b:b + 500]).argmax(1) == labels[b:b + 500]).sum())
    return correct / len(images)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--engine", default="onednn", choices=["onednn", "qnnpack", "fbgemm"])
    p.add_argument("--calib", type=int, default=5000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.engine not in torch.backends.quantized.supported_engines:
        raise SystemExit(f"engine {a.engine} is not in this PyTorch's {torch.backends.quantized.supported_engines}")
    torch.backends.quantized.engine = a.engine

    tensors, meta = load_safetensors(a.model)
    config = json.loads(meta["config"])
    if "quantization" in config:
        raise SystemExit(f"{a.model} is already quantized; give the FP32 model")
    model = build_sequential(config).eval()
    model.load_state_dict(tensors)
    shape = [-1] + config["input_shape"]

    train = read_idx(f"{FASHION}/train-images-idx3-ubyte.gz")
    calib = torch.from_numpy(train[-5000:][:a.calib].astype(np.float32) / 255.0).reshape(shape)
    test = torch.from_numpy(read_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0).reshape(shape)
    labels = torch.from_numpy(read_idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))

    qmodel = prepare_fx(model, get_default_qconfig_mapping(a.engine), example_inputs=(calib[:1],))
    with torch.no_grad():
        for b in range(0, len(calib), 100):
            qmodel(calib[b:b + 100])
    qmodel = convert_fx(qmodel)

    fp32_acc, int8_acc = accuracy(model, test, labels), accuracy(qmodel, test, labels)
    out = {"model": a.model, "torch": torch.__version__, "engine": a.engine, "threads": a.threads,
           "calibration_images": a.calib, "fp32_accuracy": fp32_acc, "int8_accuracy": int8_acc,
           "accuracy_drop_points": 100 * (fp32_acc - int8_acc), "latency": []}
    for batch in (1, 64):
        r = time_interleaved(model, qmodel, test[:batch], a.seconds)
        r["batch"] = batch
        out["latency"].append(r)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
