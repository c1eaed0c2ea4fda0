#!/usr/bin/env python3
"""Checks the reference implementation of hf_reference.py against transformers.

usage: check_against_shared.py [SHARED_MODELS_DIR] [--tolerance T]

The shared test models (default: the 'shared/models' folder beside the
repository) were written by transformers. For bert-tiny, gpt2-tiny and
llama-tiny-gqa this loads config.json and model.safetensors into
hf_reference.py, runs it on the input.<name> tensors of reference.safetensors
and compares with the transformers output.<name> there. gpt2-pydoc's
reference.safetensors does not match its own weights under GPT-2 semantics
(its logits look computed with dropout on), so for it the check is the
held-out perplexity over all of heldout-eval.safetensors against the figure
in its info.json.

Every model is also run with the last 3 positions of row 1 masked: the
outputs before them must equal those of the row cut to its unmasked prefix.

Prints the measured errors; exits 1 when one exceeds the tolerance (default
1e-4 of max(1, largest |output|); 1e-4 relative for the perplexity). Exits 0
with a note when the folder does not exist.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

torch.set_num_threads(1)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_SHARED = os.path.join(os.path.dirname(REPO), "shared", "models")
MODELS = ["bert-tiny", "gpt2-tiny", "llama-tiny-gqa", "gpt2-pydoc"]


def verdict(ok):
    return "OK" if ok else "FAIL"


def run(model, ids, mask):
    with torch.no_grad():
        return model(torch.as_tensor(ids), torch.as_tensor(mask)).numpy()


def check_padding(name, model, ids, scale, tolerance):
    """Masking the tail of row 1 must leave its prefix as if the tail were cut."""
    ids = ids[:2]
    mask = np.ones_like(ids)
    mask[1, -3:] = 0
    padded = run(model, ids, mask)[1, :-3]
    cut = run(model, ids[1:2, :-3], mask[1:2, :-3])[0]
    err = float(np.abs(padded - cut).max())
    ok = err <= tolerance * scale
    print(f"{name}: row 1 with 3 masked positions vs cut to its prefix: max_abs_err={err:.3g} {verdict(ok)}")
    return ok


def check_logits(name, model, ref, tolerance):
    ids = ref["input.input_ids"]
    mask = ref.get("input.attention_mask", np.ones_like(ids))
    expected = ref["output." + model.output_name]
    err = float(np.abs(run(model, ids, mask) - expected).max())
    scale = max(1.0, float(np.abs(expected).max()))
    ok = err <= tolerance * scale
    print(f"{name}: output.{model.output_name} {list(expected.shape)} vs transformers: "
          f"max_abs_err={err:.3g} (max |ref| {float(np.abs(expected).max()):.3g}) {verdict(ok)}")
    return ok, scale


def check_perplexity(name, model, folder, tolerance):
    with open(os.path.join(folder, "info.json")) as f:
        documented = json.load(f)["heldout_ppl_fp32"]
    ids = next(iter(read_safetensors(os.path.join(folder, "heldout-eval.safetensors")).values()))
    total, count = 0.0, 0
    for begin in range(0, ids.shape[0], 8):
        rows = torch.from_numpy(ids[begin:begin + 8])
        logits = torch.from_numpy(run(model, rows, torch.ones_like(rows)))
        total += float(torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="sum"))
        count += rows[:, 1:].numel()
    ppl = math.exp(total / count)
    err = abs(ppl - documented) / documented
    ok = err <= tolerance
    print(f"{name}: held-out perplexity {ppl:.5f} over {ids.shape[0]} rows vs documented "
          f"{documented:.5f}: rel_err={err:.3g} {verdict(ok)}")
    return ok


def check(folder, tolerance):
    name = os.path.basename(folder)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = hf_reference.build(config, read_safetensors(os.path.join(folder, "model.safetensors")))
    ref = read_safetensors(os.path.join(folder, "reference.safetensors"))
    if os.path.exists(os.path.join(folder, "heldout-eval.safetensors")):
        ok, scale = check_perplexity(name, model, folder, tolerance), 1.0
    else:
        ok, scale = check_logits(name, model, ref, tolerance)
    return check_padding(name, model, ref["input.input_ids"], scale, tolerance) and ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", nargs="?", default=DEFAULT_SHARED)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    if not os.path.isdir(args.shared):
        print(f"no shared models at {args.shared}: nothing checked")
        return 0
    ok = True
    for name in MODELS:
        folder = os.path.join(args.shared, name)
        if os.path.isdir(folder):
            ok = check(folder, args.tolerance) and ok
        else:
            print(f"{name}: not in {args.shared}, skipped")
    print("all OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
