#!/usr/bin/python3
"""PyTorch peer for the MLP Sprint: the same weights (benchmarks/mlp.safetensors)
in a torch.nn.Sequential, timed in eager mode at batch 1 and 256, side by side
with tinyopt's best FP32 path (`tinyopt profile`, automatic routing), rounds
alternating between the two so machine drift hits both alike.

Run with Debian's interpreter (python3-torch 1.13):
    /usr/bin/python3 scripts/torch_mlp_peer.py --tinyopt build/tinyopt --threads 1 --rounds 5

It first checks the weights really are the same model: PyTorch's accuracy on
all 10,000 Fashion-MNIST test images must equal tinyopt's (`tinyopt eval`).
Prints one table and, with --json, the numbers as JSON.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from peer_common import FASHION, load_safetensors, read_idx


def build_mlp(path):
    tensors, meta = load_safetensors(path)
    config = json.loads(meta["config"])
    layers = []
    for spec in config["layers"]:
        t = spec["type"]
        if t == "flatten":
            layers.append(torch.nn.Flatten())
        elif t == "linear":
            layers.append(torch.nn.Linear(spec["in_features"], spec["out_features"], bias=spec.get("bias", True)))
        elif t == "relu":
            layers.append(torch.nn.ReLU())
        else:
            raise SystemExit(f"{path}: layer type {t} not handled by this peer script")
    model = torch.nn.Sequential(*layers)
    model.load_state_dict(tensors, strict=True)
    return model.eval()


def load_idx(path):
    """Images as [N, 1, H, W] (as tinyopt's CLI takes them), labels as [N]."""
    a = read_idx(path)
    return a.reshape(a.shape[0], 1, a.shape[1], a.shape[2]) if a.ndim == 3 else a


def torch_median_seconds(model, x, seconds):
    with torch.inference_mode():
        for _ in range(20):
            model(x)
        samples = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or len(samples) < 50:
            t0 = time.perf_counter()
            model(x)
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def tinyopt_median_seconds(cli, model_path, batch, threads, runs):
    out = subprocess.run([cli, "--threads", str(threads), "profile", "--model", model_path, "--batch", str(batch),
                          "--runs", str(runs), "--warmup", "20", "--json"], check=True, capture_output=True, text=True)
    j = json.loads(out.stdout)
    return j["forward_without_profiler"]["p50_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="benchmarks/mlp.safetensors")
    ap.add_argument("--tinyopt", default="build/tinyopt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5, help="PyTorch sampling time per measurement")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = build_mlp(a.model)

    # Same weights, same answers: accuracy on the 10,000 test images.
    images = torch.from_numpy(load_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    labels = torch.from_numpy(load_idx(f"{FASHION}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    with torch.inference_mode():
        torch_acc = (model(images).argmax(1) == labels).float().mean().item()
    ev = subprocess.run([a.tinyopt, "eval", "--model", a.model, "--json"], check=True, capture_output=True, text=True)
    tinyopt_acc = json.loads(ev.stdout)["test_accuracy"]
    if abs(torch_acc - tinyopt_acc) > 1e-4:
        sys.exit(f"weights differ: PyTorch {torch_acc:.4f} vs tinyopt {tinyopt_acc:.4f} accuracy")

    rows = {}
    for batch in (1, 256):
        x = images[:batch].clone()
        t_torch, t_tiny = [], []
        for r in range(a.rounds):  # alternate which side goes first
            for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                if side == 0:
                    t_torch.append(torch_median_seconds(model, x, a.seconds))
                else:
                    runs = 20000 if batch == 1 else 400
                    t_tiny.append(tinyopt_median_seconds(a.tinyopt, a.model, batch, a.threads, runs))
        ratios = [p / t for p, t in zip(t_torch, t_tiny)]
        rows[batch] = {"torch_s": statistics.median(t_torch), "tinyopt_s": statistics.median(t_tiny),
                       "speedup": statistics.median(ratios), "rounds": a.rounds}

    result = {"model": a.model, "threads": a.threads, "torch_version": torch.__version__,
              "accuracy": {"torch": torch_acc, "tinyopt": tinyopt_acc}, "batches": rows}
    if a.json:
        print(json.dumps(result, indent=2))
        return
    print(f"MLP {a.model}, {a.threads} thread(s), PyTorch {torch.__version__} eager vs tinyopt best FP32 (auto), "
          f"{a.rounds} alternating rounds; same accuracy {torch_acc:.4f}")
    print(f"{'batch':>6} {'PyTorch':>12} {'tinyopt':>12} {'tinyopt speedup':>16}")
    for batch, r in rows.items():
        print(f"{batch:>6} {r['torch_s'] * 1e6:>10.1f}us {r['tinyopt_s'] * 1e6:>10.1f}us {r['speedup']:>15.2f}x")


if __name__ == "__main__":
    main()
