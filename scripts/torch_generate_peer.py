#!/usr/bin/python3
"""PyTorch peer for `tinyopt bench generate`: the same GPT weights, a small
nanoGPT-style model whose attention takes and returns `past_key_values`
([B, n_head, T, head_dim] per layer, HuggingFace's layout), greedy decoding
with and without the cache, tokens/s at batch 1.

Run with Debian's interpreter (it has python3-torch 1.13):
    /usr/bin/python3 scripts/torch_generate_peer.py --model benchmarks/gpt.safetensors --threads 2
Without --model a randomly initialised model of the reference shape is used
(4 layers, 4 heads, 128 wide, vocab 96), block_size = the longest length.
It also checks that cached and uncached greedy tokens agree, and, given
--tinyopt-json (the output of `tinyopt generate --json --greedy`), that its
tokens equal tinyopt's.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from peer_common import load_safetensors


def generate(model, prompt, n, use_cache):
    ids = torch.tensor([prompt], dtype=torch.long)
    out = []
    past = None
    feed = ids
    for _ in range(n):
        logits, presents = model(feed, past if use_cache else None)
        nxt = int(torch.argmax(logits[0]))
        out.append(nxt)
        if use_cache:
            past = presents
            feed = torch.tensor([[nxt]], dtype=torch.long)
        else:
            ids = torch.cat([ids, torch.tensor([[nxt]], dtype=torch.long)], dim=1)
            feed = ids
    return out


def median_time(fn, runs):
    fn()  # warm-up
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--lengths", default="64,128,256")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-uncached", action="store_true", help="time only the cached path")
    ap.add_argument("--tinyopt-json", help="output of `tinyopt generate --json --greedy` to compare tokens with")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    lengths = [int(x) for x in args.lengths.split(",")]
    if args.model:
        sd, meta = load_safetensors(args.model)
        cfg = json.loads(meta["config"])
    else:
        torch.manual_seed(0)
        cfg = {"vocab_size": 96, "n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": max(lengths), "bias": True}
        sd = None
    model = GPT(cfg).eval()
    if sd is not None:
        model.load_nanogpt(sd)
    report = {"peer": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "model": args.model or "random",
              "rows": []}
    if args.tinyopt_json:
        with open(args.tinyopt_json) as f:
            tj = json.load(f)
        ours = generate(model, tj["prompt_ids"], len(tj["token_ids"]), True)
        report["tokens_match_tinyopt"] = ours == tj["token_ids"]
    for n_pos in lengths:
        if n_pos > cfg["block_size"]:
            report["rows"].append({"positions": n_pos, "skipped": "beyond block_size"})
            continue
        new = n_pos - 1
        row = {"positions": n_pos, "new_tokens": new}
        t_c = median_time(lambda: generate(model, [0], new, True), args.runs)
        row["cached_tokens_per_second"] = new / t_c
        if not args.no_uncached:
            t_u = median_time(lambda: generate(model, [0], new, False), args.runs)
            row["uncached_tokens_per_second"] = new / t_u
            row["identical_tokens"] = generate(model, [0], new, True) == generate(model, [0], new, False)
        report["rows"].append(row)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    sys.exit(main())
