#!/usr/bin/env python3
"""tfx's int8 schemes against ONNX Runtime's int8 dynamic quantization, in one run.

usage: bench/quantize/vs_ort.py [--models bert-base,gpt2-small] [--threads 1,2]
                                [--runs N] [--rounds R]

On the BERT-base shape (12 layers, hidden 768, FFN 3072) and the GPT-2-small
shape (the same plus a 50257-token tied LM head), one [1, 128] forward pass,
prints the latency and the linear weights' bytes of:
  - ONNX Runtime f32 and ONNX Runtime int8 dynamic: the graph its
    quantize_dynamic emits (per-tensor int8 weights, DynamicQuantizeLinear +
    MatMulInteger + Cast + Mul, which ORT fuses into its int8 kernels), built
    here with python3-onnx from bench/models.py's models; the decoder's
    Conv1D layers export as Gemm, which get the same form plus the bias Add
    (as quantize_dynamic emits for the MatMul + Add of other exports); LM
    heads and embeddings stay float on both sides;
  - tfx f32, w8 (weight-only), w8a8 (dynamic per-row activations),
    w8a8-static (calibrated ranges) and w4-g128 (int4 weight-only), and for
    GPT-2 w8a8-emb (the tied embedding and LM head int8 too);
each with its ratio to the f32 of its own runtime and to ORT int8, measured
in this run. tfx's sizes come from tfx-compile --report (JSON): the bytes of
the linears a scheme quantized against their f32 bytes, and the whole
weight blob. The GPT-2 shape runs the same weights in both runtimes (its
ONNX file and Hugging Face folder come from one PyTorch model); the BERT
shape's ONNX file is the peers' model and tfx's folder bench/prune's, both
random. ORT runs through bench/ort_time.js (npm's onnxruntime-node in
bench/.work, see bench/cpu_bench.py).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "prune"))
import cpu_bench  # noqa: E402
import run as prune_bench  # noqa: E402

SEQ = prune_bench.SEQ


def quantize_onnx_dynamic(src, dst, vocab):
    """Every MatMul with a 2-D float initializer as its weight becomes
    DynamicQuantizeLinear + MatMulInteger + Cast + Mul (int8 per tensor),
    except the LM head (a weight with a `vocab`-sized dimension)."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes, weight_bytes = [], 0
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        w = inits.get(node.input[1]) if node.op_type in ("MatMul", "Gemm") else None
        gemm = node.op_type == "Gemm"
        # A weight shared with another node (a tied LM head) stays float, as
        # do Gemms with transposes or scalings quantize_dynamic's form lacks.
        if (w is None or len(w.dims) != 2 or uses[w.name] > 1 or vocab in w.dims or
                (gemm and (attrs.get("transA", 0) or attrs.get("transB", 0) or
                           attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0))):
            nodes.append(node)
            continue
        array = numpy_helper.to_array(w)
        scale = float(np.abs(array).max()) / 127 or 1.0
        q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
        base = node.output[0]
        graph.initializer.remove(w)
        graph.initializer.extend([
            numpy_helper.from_array(q, w.name + "_q"),
            numpy_helper.from_array(np.array(scale, np.float32), w.name + "_scale"),
            numpy_helper.from_array(np.array(0, np.int8), w.name + "_zp")])
        weight_bytes += q.size
        x = node.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x],
                             [base + "_xq", base + "_xs", base + "_xzp"]),
            helper.make_node("MatMulInteger", [base + "_xq", w.name + "_q", base + "_xzp",
                                               w.name + "_zp"], [base + "_i32"]),
            helper.make_node("Cast", [base + "_i32"], [base + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [base + "_xs", w.name + "_scale"], [base + "_s"]),
            helper.make_node("Mul", [base + "_f", base + "_s"],
                             [base + "_mm" if gemm and len(node.input) > 2 else base])]
        if gemm and len(node.input) > 2:
            nodes.append(helper.make_node("Add", [base + "_mm", node.input[2]], [base]))
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, dst)
    return weight_bytes


def tfx_compile(build, folder, out, scheme, cal):
    """Compiles one scheme; returns the --report's size section."""
    report = out + ".report.json"
    compiler = os.path.join(build, "bin", "tfx-compile")
    # Reuse an artifact newer than the compiler and the model.
    if os.path.exists(report) and os.path.exists(out + ".so"):
        made = os.path.getmtime(out + ".so")
        if made > os.path.getmtime(compiler) and made > os.path.getmtime(
                os.path.join(folder, "model.safetensors")):
            with open(report) as f:
                return json.load(f)["size"]
    cmd = [compiler, folder, "--target", "cpu", "--emit=so",
           "--weights", "external", "-o", out, "--input-shape", "input_ids=1x%d" % SEQ,
           "--input-shape", "attention_mask=1x%d" % SEQ, "--report", report]
    if scheme != "f32":
        cmd.append("--quantize=" + scheme)
        if "static" in scheme:
            cmd += ["--calibration", cal]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("tfx-compile %s failed: %s" % (scheme, p.stderr[-500:]))
    with open(report) as f:
        return json.load(f)["size"]


def tfx_time(build, so, inputs, threads, runs):
    p = subprocess.run([os.path.join(build, "bin", "tfx-run"), so, "--backend", "cpu",
                        "--threads", str(threads), "--bench", str(runs), "--inputs", inputs],
                       capture_output=True, text=True)
    m = re.search(r"median ([0-9.]+) ms", p.stdout)
    return float(m.group(1)) if m else None


SCHEMES = ["f32", "w8", "w8a8", "w8a8-static", "w4-g128"]
# Per model, schemes beyond the common ones: GPT-2's tied table as int8 too
# (the LM head then runs as a W8A8 GEMM).
EXTRA = {"gpt2-small": ["w8a8-emb"]}


def prepare(name, work):
    """The ONNX file, ORT's int8 form of it, tfx's folder and the inputs."""
    paths = cpu_bench.prepare(name, work, False)
    model = {"onnx": paths["onnx"],
             "int8": os.path.join(work, "models", name + ".int8-dynamic.onnx")}
    model["int8_bytes"] = quantize_onnx_dynamic(model["onnx"], model["int8"],
                                                cpu_bench.MODELS[name][2])
    # The f32 bytes of the linears ORT quantizes (one int8 per weight).
    model["f32_bytes"] = model["int8_bytes"] * 4
    if name == "bert-base":
        model["folder"] = prune_bench.make_model(name, os.path.join(work, "prune"))
    else:
        model["folder"] = paths["folder"]
    model["inputs"] = os.path.join(work, "quantize", name + ".in.safetensors")
    os.makedirs(os.path.dirname(model["inputs"]), exist_ok=True)
    prune_bench.make_inputs(model["inputs"], cpu_bench.MODELS[name][2])
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="bert-base,gpt2-small")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    work = os.path.join(ROOT, "bench", ".work")
    node_modules = os.path.join(work, "node_modules")
    threads = [int(x) for x in args.threads.split(",")]
    rows = []
    for name in args.models.split(","):
        model = prepare(name, work)
        sizes = {}
        schemes = SCHEMES + EXTRA.get(name, [])
        for s in schemes:
            cpu_bench.log("compiling tfx %s %s" % (name, s))
            sizes[s] = tfx_compile(args.build, model["folder"],
                                   os.path.join(work, "quantize", "%s-%s" % (name, s)), s,
                                   model["inputs"])
        for t in threads:
            # Rounds interleave every runtime, so that a slow spell of this
            # VM's second core hits them all alike; the figure is the median
            # of the rounds' medians, the range their spread.
            times = {}
            for r in range(args.rounds):
                cpu_bench.log("timing %s at %d threads, round %d/%d" % (name, t, r + 1,
                                                                       args.rounds))
                for label, path in (("ORT f32", model["onnx"]),
                                    ("ORT int8 dynamic", model["int8"])):
                    ms, err = cpu_bench.time_ort(path, t, args.runs, node_modules)
                    if ms is None:
                        sys.exit("ONNX Runtime failed: %s" % err)
                    times.setdefault(label, []).append(ms)
                for sc in schemes:
                    so = os.path.join(work, "quantize", "%s-%s.so" % (name, sc))
                    ms = tfx_time(args.build, so, model["inputs"], t, args.runs)
                    if ms is None:
                        sys.exit("tfx-run %s failed" % so)
                    times.setdefault("tfx " + sc, []).append(ms)
            figure = {k: statistics.median(v) for k, v in times.items()}
            spread = {k: "%.0f-%.0f" % (min(v), max(v)) for k, v in times.items()}
            ort32, ort8 = figure["ORT f32"], figure["ORT int8 dynamic"]
            rows.append((name, t, "ORT f32", ort32, spread["ORT f32"], ort32, ort8,
                         "%.1f MB quantizable linears" % (model["f32_bytes"] / 1e6)))
            rows.append((name, t, "ORT int8 dynamic", ort8, spread["ORT int8 dynamic"], ort32,
                         ort8, "%.1f MB (%.3fx)" % (model["int8_bytes"] / 1e6,
                                                   model["int8_bytes"] / model["f32_bytes"])))
            base = figure["tfx f32"]
            for sc in schemes:
                changed = sizes[sc]["changed_linear_bytes"]
                whole = sizes[sc]["weight_bytes"]
                rows.append((name, t, "tfx " + sc, figure["tfx " + sc], spread["tfx " + sc],
                             base, ort8,
                             "%.1f MB (%.3fx); whole model %.1f MB (%.3fx)" % (
                                 changed["after"] / 1e6,
                                 changed["after"] / max(changed["before"], 1),
                                 whole["after"] / 1e6, whole["after"] / whole["before"])
                             if sc != "f32" else
                             "whole model %.1f MB" % (whole["after"] / 1e6)))
    print("%-10s %-7s %-18s %10s %9s %9s %9s  %s" % (
        "model", "threads", "runtime", "latency", "range", "vs f32", "vs ORT8",
        "quantized linears"))
    for name, t, runtime, ms, spread, f32, ort8, size in rows:
        print("%-10s %-7d %-18s %7.1f ms %9s %8.2fx %8.2fx  %s" % (
            name, t, runtime, ms, spread, f32 / ms, ort8 / ms, size))
    print("([1, %d]; latency: the median over %d interleaved rounds of each round's median of "
          "%d runs, range: the rounds' medians; 'vs f32': speedup over the same runtime's f32; "
          "'vs ORT8': over ONNX Runtime int8 dynamic; sizes: the quantized linears' stored "
          "bytes and their ratio to f32)" % (SEQ, args.rounds, args.runs))


if __name__ == "__main__":
    main()
