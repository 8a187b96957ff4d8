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
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "I8": np.int8}


def load_safetensors(path):
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


class Block(torch.nn.Module):
    def __init__(self, c, h, bias):
        super().__init__()
        self.h = h
        self.ln_1 = torch.nn.LayerNorm(c, elementwise_affine=True)
        self.c_attn = torch.nn.Linear(c, 3 * c, bias=bias)
        self.attn_c_proj = torch.nn.Linear(c, c, bias=bias)
        self.ln_2 = torch.nn.LayerNorm(c)
        self.c_fc = torch.nn.Linear(c, 4 * c, bias=bias)
        self.mlp_c_proj = torch.nn.Linear(4 * c, c, bias=bias)

    def attn(self, x, past):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        if t > 1:  # causal mask over the new rows (past keys are always visible)
            total = k.size(2)
            mask = torch.ones(t, total, dtype=torch.bool).tril(diagonal=total - t)
            s = s.masked_fill(~mask, float("-inf"))
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.attn_c_proj(y), (k, v)

    def forward(self, x, past):
        a, present = self.attn(self.ln_1(x), past)
        x = x + a
        x = x + self.mlp_c_proj(F.gelu(self.c_fc(self.ln_2(x))))
        return x, present


class GPT(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg["n_embd"]
        self.cfg = cfg
        self.wte = torch.nn.Embedding(cfg["vocab_size"], c)
        self.wpe = torch.nn.Embedding(cfg["block_size"], c)
        self.blocks = torch.nn.ModuleList(Block(c, cfg["n_head"], cfg.get("bias", True)) for _ in range(cfg["n_layer"]))
        self.ln_f = torch.nn.LayerNorm(c)
        self.lm_head = torch.nn.Linear(c, cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.wte.weight

    def load_nanogpt(self, sd):
        m = {"transformer.wte.weight": self.wte.weight, "transformer.wpe.weight": self.wpe.weight,
             "transformer.ln_f.weight": self.ln_f.weight, "transformer.ln_f.bias": self.ln_f.bias}
        for i, blk in enumerate(self.blocks):
            p = f"transformer.h.{i}."
            for name, mod in (("ln_1", blk.ln_1), ("attn.c_attn", blk.c_attn), ("attn.c_proj", blk.attn_c_proj),
                              ("ln_2", blk.ln_2), ("mlp.c_fc", blk.c_fc), ("mlp.c_proj", blk.mlp_c_proj)):
                m[p + name + ".weight"] = mod.weight
                if mod.bias is not None:
                    m[p + name + ".bias"] = mod.bias
        with torch.no_grad():
            for k, param in m.items():
                param.copy_(sd[k])
            if "lm_head.weight" in sd:
                self.lm_head.weight = torch.nn.Parameter(sd["lm_head.weight"].clone())

    def forward(self, ids, past=None):
        t0 = 0 if past is None else past[0][0].size(2)
        pos = torch.arange(t0, t0 + ids.size(1))
        x = self.wte(ids) + self.wpe(pos)
        presents = []
        for i, blk in enumerate(self.blocks):
            x, pr = blk(x, None if past is None else past[i])
            presents.append(pr)
        return self.lm_head(self.ln_f(x)[:, -1, :]), presents


@torch.no_grad()
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
