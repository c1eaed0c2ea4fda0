"""Held-out perplexity and top-1 agreement of compiled language models.

usage: lm_heldout.py MODEL.so HELDOUT.safetensors [--dense DENSE.so]
           [--rows FIRST:END] [--max-ppl P] [--min-top1 PERCENT]

Runs the artifact (entry inputs input_ids and attention_mask, [1, S]) on
rows FIRST..END-1 of the held-out token ids (the file's only tensor, or
input_ids / input.input_ids; [rows, S]), one row per call, and prints

  perplexity X over N rows (dense Y), top1 agreement Z%

perplexity = exp(mean next-token cross-entropy over positions 1..S-1);
with --dense, the same rows through the dense artifact give Y and the
agreement of the two models' argmax at every position. --max-ppl and
--min-top1 make it exit 1 when the figures are worse.
"""
import argparse
import ctypes
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact as ra  # noqa: E402


class Model:
    """One entry of a compiled artifact, called with numpy arrays."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(os.path.abspath(path))
        art = ra.Artifact.in_dll(self.lib, "tfx_artifact_main")
        assert art.magic == b"TFXART01", art.magic
        self.entry = art.entries[0]
        self.weights = art.weights
        self.keep = []
        if not self.weights and art.weights_file:
            blob = ra.aligned(art.weights_size)
            blob[:] = np.fromfile(os.path.join(os.path.dirname(os.path.abspath(path)),
                                               art.weights_file.decode()), dtype=np.uint8)
            self.keep.append(blob)
            self.weights = blob.ctypes.data
        self.scratch = ra.aligned(max(self.entry.scratch_bytes, 1))

        def parallel_for(pool, count, body, closure):
            for i in range(count):
                body(closure, i)

        self.callback = ra.PARALLEL_FOR(parallel_for)
        self.env = ra.ExecEnv(self.callback, None, self.scratch.ctypes.data)

    def inputs(self):
        e = self.entry
        return [(e.inputs[k].name.decode(), tuple(e.inputs[k].shape[:e.inputs[k].rank]),
                 ra.DTYPES[e.inputs[k].dtype]) for k in range(e.num_inputs)]

    def __call__(self, feeds):
        e = self.entry
        ins = [np.ascontiguousarray(feeds[name].astype(dtype).reshape(shape))
               for name, shape, dtype in self.inputs()]
        outs = [np.zeros(tuple(e.outputs[k].shape[:e.outputs[k].rank]),
                         dtype=ra.DTYPES[e.outputs[k].dtype]) for k in range(e.num_outputs)]
        in_ptrs = (ctypes.c_void_p * max(1, len(ins)))(*[a.ctypes.data for a in ins])
        out_ptrs = (ctypes.c_void_p * max(1, len(outs)))(*[a.ctypes.data for a in outs])
        code = e.fn(ctypes.byref(self.env), self.weights, in_ptrs, out_ptrs)
        if code != 0:
            raise RuntimeError("entry returned status %d" % code)
        return outs[0]


def heldout_ids(path):
    tensors = ra.read_safetensors(path)
    for name in ("input.input_ids", "input_ids"):
        if name in tensors:
            return tensors[name]
    if len(tensors) == 1:
        return next(iter(tensors.values()))
    sys.exit("%s: no input_ids tensor" % path)


def cross_entropy(logits, ids):
    """Mean next-token cross-entropy of one row ([S, V] logits, [S] ids)."""
    x = logits[:-1].astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    logp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    return -logp[np.arange(len(ids) - 1), ids[1:]].mean()


def evaluate(model_path, heldout, rows, dense_path=None):
    """(perplexity, dense perplexity or None, top-1 agreement or None, rows)."""
    ids = heldout_ids(heldout)
    first, end = rows
    model = Model(model_path)
    dense = Model(dense_path) if dense_path else None
    ce, ce_dense, agree, count = [], [], 0, 0
    for r in range(first, min(end, ids.shape[0])):
        row = ids[r:r + 1]
        feeds = {"input_ids": row, "attention_mask": np.ones_like(row)}
        logits = model(feeds)[0]
        ce.append(cross_entropy(logits, row[0]))
        if dense:
            ref = dense(feeds)[0]
            ce_dense.append(cross_entropy(ref, row[0]))
            agree += int((ref.argmax(-1) == logits.argmax(-1)).sum())
            count += ref.shape[0]
    ppl = float(np.exp(np.mean(ce)))
    if not dense:
        return ppl, None, None, len(ce)
    return ppl, float(np.exp(np.mean(ce_dense))), agree / count, len(ce)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("heldout")
    p.add_argument("--dense")
    p.add_argument("--rows", default="0:64")
    p.add_argument("--max-ppl", type=float)
    p.add_argument("--min-top1", type=float)
    args = p.parse_args()
    first, end = (int(v) for v in args.rows.split(":"))
    ppl, dense_ppl, top1, n = evaluate(args.model, args.heldout, (first, end), args.dense)
    line = "perplexity %.3f over %d rows" % (ppl, n)
    if dense_ppl is not None:
        line += " (dense %.3f), top1 agreement %.2f%%" % (dense_ppl, 100 * top1)
    print(line)
    bad = (args.max_ppl is not None and ppl > args.max_ppl) or \
          (args.min_top1 is not None and (top1 is None or 100 * top1 < args.min_top1))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
