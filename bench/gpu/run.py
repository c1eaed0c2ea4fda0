#!/usr/bin/env python3
"""On the GPU machine: checks and times the staged encoder, tfx vs PyTorch.

usage: run.py [--runs N]   (in the folder bench/gpu/stage.py wrote)

For batch 1 and 32 at sequence 128: tfx's CUDA artifacts (f32 matmuls, and
f16 matmuls on the tensor cores with f32 sums) are checked against the fp32
reference (f32: rtol 1e-4, atol 1e-5 as in every other check; f16: relative
L2 error at most 5e-3), then
timed two ways: a whole call with the inputs copied in and the outputs
copied out (what tfx_model_run costs a caller with host tensors), and back
to back on the device without copies (the GPU's time). PyTorch (the
transformers BertModel of the same config, random weights) is timed in
fp32 and fp16, eager and replaying a CUDA graph, with CUDA events; every
time is the median of N runs after warm-up. Ratios are PyTorch / tfx
device time, so above 1 means tfx is faster.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def tfx_times(batch, precision, runs):
    ref = os.path.join(HERE, "ref_b%d.safetensors" % batch)
    check = ["--rel-l2", "5e-3"] if precision != "f32" else []
    out = subprocess.run([os.path.join(HERE, "tfxrt-run"),
                          os.path.join(HERE, "bert_b%d_%s.so" % (batch, precision)),
                          "--inputs", ref, "--check", ref] + check + ["--bench", str(runs)],
                         capture_output=True, text=True)
    print(out.stdout + out.stderr, end="")
    ok = out.returncode == 0 and " OK" in out.stdout
    call = re.search(r"^median ([0-9.]+) ms", out.stdout, re.M)
    device = re.search(r"^device ([0-9.]+) ms", out.stdout, re.M)
    return ok, float(call.group(1)) if call else None, float(device.group(1)) if device else None


def torch_times(config, batch, runs, dtype):
    from transformers import BertConfig, BertModel
    model = BertModel(BertConfig(**{k: v for k, v in config.items()
                                    if k not in ("architectures", "dtype", "transformers_version")}),
                      add_pooling_layer=False).cuda().eval().to(dtype)
    ids = torch.randint(1, config["vocab_size"], (batch, 128), device="cuda")
    mask = torch.ones_like(ids)

    def timed(fn):
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(runs):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times)

    with torch.no_grad():
        eager = timed(lambda: model(input_ids=ids, attention_mask=mask))
        graph = torch.cuda.CUDAGraph()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                model(input_ids=ids, attention_mask=mask)
        torch.cuda.current_stream().wait_stream(stream)
        with torch.cuda.graph(graph):
            model(input_ids=ids, attention_mask=mask)
        replay = timed(graph.replay)
    return eager, replay


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    with open(os.path.join(HERE, "config.json")) as f:
        config = json.load(f)
    first = os.path.join(HERE, "bert_b1_f32.weights")
    for batch in (1, 32):
        for precision in ("f32", "f16"):
            path = os.path.join(HERE, "bert_b%d_%s.weights" % (batch, precision))
            if path != first:
                shutil.copy(first, path)
    print(torch.cuda.get_device_name(), "torch", torch.__version__)
    rows = []
    for batch in (1, 32):
        f32 = torch_times(config, batch, args.runs, torch.float32)
        f16 = torch_times(config, batch, args.runs, torch.float16)
        for precision in ("f32", "f16"):
            ok, call, device = tfx_times(batch, precision, args.runs)
            rows.append((batch, precision, ok, call, device, f32, f16))
    layers = config["num_hidden_layers"]
    print("\nBERT-base layer shape, %d layer(s), sequence 128, ms (median of %d)" % (layers, args.runs))
    print("| batch | tfx matmuls | tfx check | tfx call | tfx device | torch f32 eager | torch f32 graph"
          " | torch f16 eager | torch f16 graph | f32 graph / tfx | f16 graph / tfx |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for batch, precision, ok, call, device, f32, f16 in rows:
        fmt = lambda v: "%.3f" % v if v is not None else "-"
        ratio = lambda v: "%.2fx" % (v / device) if device else "-"
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            batch, precision, "OK" if ok else "FAIL", fmt(call), fmt(device), fmt(f32[0]),
            fmt(f32[1]), fmt(f16[0]), fmt(f16[1]), ratio(f32[1]), ratio(f16[1])))


if __name__ == "__main__":
    main()
