#!/usr/bin/env python3
"""Greedy generation with the independent PyTorch implementation (hf_reference.py).

usage: greedy_reference.py MODEL_DIR --prompts FILE --new N --out FILE
       greedy_reference.py MODEL_DIR --make-prompts K --length L --prompts FILE
                           [--from-heldout] [--new N --out FILE]

Each step runs the whole forward pass on the sequence so far (no cache, no
incremental state) and appends the argmax of the last position's logits
(the first maximum, as torch.argmax takes it). Prompts are token ids, one
prompt per line; the new tokens are written the same way.

--make-prompts writes K prompts of L token ids: seeded random ids in
[1, vocab), or with --from-heldout the first L tokens of held-out rows of
gpt2-pydoc (heldout-eval.safetensors beside the model).

Prints the smallest gap between the two largest logits met while choosing
(a near-tie there is where two correct float implementations may part).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

torch.set_num_threads(1)


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    weights = read_safetensors(os.path.join(folder, "model.safetensors"))
    return config, hf_reference.build(config, weights)


def make_prompts(folder, config, count, length, heldout):
    if heldout:
        ids = read_safetensors(os.path.join(folder, "heldout-eval.safetensors"))["input_ids"]
        return [list(map(int, ids[row, :length])) for row in range(count)]
    rng = np.random.default_rng(1234)
    return [list(map(int, rng.integers(1, config["vocab_size"], size=length))) for _ in range(count)]


def generate(model, prompt, new):
    ids = list(prompt)
    smallest_gap = float("inf")
    with torch.no_grad():
        for _ in range(new):
            x = torch.tensor([ids], dtype=torch.int64)
            logits = model(x, torch.ones_like(x))[0, -1]
            top = torch.topk(logits, 2).values
            smallest_gap = min(smallest_gap, float(top[0] - top[1]))
            ids.append(int(torch.argmax(logits)))
    return ids[len(prompt):], smallest_gap


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--out")
    parser.add_argument("--make-prompts", type=int, default=0)
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--from-heldout", action="store_true")
    args = parser.parse_args()

    config, model = load(args.model)
    if args.make_prompts:
        prompts = make_prompts(args.model, config, args.make_prompts, args.length, args.from_heldout)
        with open(args.prompts, "w") as f:
            for p in prompts:
                f.write(" ".join(map(str, p)) + "\n")
        if not args.out:
            return 0
    elif not args.out:
        parser.error("--out is required unless --make-prompts is given")
    with open(args.prompts) as f:
        prompts = [list(map(int, line.split())) for line in f if line.strip()]
    lines, gap = [], float("inf")
    for prompt in prompts:
        tokens, g = generate(model, prompt, args.new)
        gap = min(gap, g)
        lines.append(" ".join(map(str, tokens)))
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(prompts)} prompts, {args.new} new tokens each; smallest top-2 logit gap {gap:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
