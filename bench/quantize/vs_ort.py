#!/usr/bin/env python3
"""tfx's int8 schemes against ONNX Runtime's int8 dynamic quantization, in one run.

usage: bench/quantize/vs_ort.py [--threads 1,2] [--runs N]

On the BERT-base shape at [1, 128] (12 layers, hidden 768, FFN 3072), prints
the latency and the linear weights' bytes of:
  - ONNX Runtime f32 and ONNX Runtime int8 dynamic: the graph its
    quantize_dynamic emits (per-tensor int8 weights, DynamicQuantizeLinear +
    MatMulInteger + Cast + Mul, which ORT fuses into its int8 kernels), built
    here with python3-onnx from bench/models.py's encoder;
  - tfx f32, w8 (weight-only), w8a8 (dynamic per-row activations) and
    w8a8-static (calibrated ranges), w4-g128 of bench/prune's BERT-base
    folder (the same shape, the project's own random weights);
each with its ratio to the f32 of its own runtime and to ORT int8, measured
in this run. ORT runs through bench/ort_time.js (npm's onnxruntime-node in
bench/.work, see bench/cpu_bench.py).
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "bench", "prune"))
import cpu_bench  # noqa: E402
import run as prune_bench  # noqa: E402


def quantize_onnx_dynamic(src, dst):
    """Every MatMul with a 2-D float initializer as its weight becomes
    DynamicQuantizeLinear + MatMulInteger + Cast + Mul (int8 per tensor)."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes, weight_bytes = [], 0
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
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
            helper.make_node("Mul", [base + "_f", base + "_s"], [base])]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, dst)
    return weight_bytes


def linear_bytes_f32(src):
    import onnx
    model = onnx.load(src)
    inits = {i.name: i for i in model.graph.initializer}
    return sum(4 * int(np.prod(inits[n.input[1]].dims)) for n in model.graph.node
               if n.op_type == "MatMul" and n.input[1] in inits
               and len(inits[n.input[1]].dims) == 2)


def tfx_compile(build, folder, out, scheme, cal):
    cmd = [os.path.join(build, "bin", "tfx-compile"), folder, "--target", "cpu", "--emit=so",
           "--weights", "external", "-o", out, "--input-shape", "input_ids=1x128",
           "--input-shape", "attention_mask=1x128"]
    if scheme != "f32":
        cmd.append("--quantize=" + scheme)
        if "static" in scheme:
            cmd += ["--calibration", cal]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("tfx-compile %s failed: %s" % (scheme, p.stderr[-500:]))
    return p.stderr


def tfx_time(build, so, inputs, threads, runs):
    p = subprocess.run([os.path.join(build, "bin", "tfx-run"), so, "--backend", "cpu",
                        "--threads", str(threads), "--bench", str(runs), "--inputs", inputs],
                       capture_output=True, text=True)
    m = re.search(r"median ([0-9.]+) ms", p.stdout)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    work = os.path.join(ROOT, "bench", ".work")
    node_modules = os.path.join(work, "node_modules")
    paths = cpu_bench.prepare("bert-base", work, False)
    onnx_f32 = paths["onnx"]
    onnx_int8 = os.path.join(work, "models", "bert-base.int8-dynamic.onnx")
    ort_int8_bytes = quantize_onnx_dynamic(onnx_f32, onnx_int8)
    ort_f32_bytes = linear_bytes_f32(onnx_f32)

    folder = prune_bench.make_model("bert-base", os.path.join(work, "prune"))
    inputs = os.path.join(work, "prune", "bert-base.in.safetensors")
    prune_bench.make_inputs(inputs, 30522)
    schemes = ["f32", "w8", "w8a8", "w8a8-static", "w4-g128"]
    tfx_bytes, tfx_linear = {}, {}
    for s in schemes:
        cpu_bench.log("compiling tfx %s" % s)
        log = tfx_compile(args.build, folder, os.path.join(work, "q-" + s), s, inputs)
        m = re.findall(r"weights ([0-9.]+) MB -> ([0-9.]+) MB", log)
        tfx_bytes[s] = os.path.getsize(os.path.join(work, "q-" + s + ".weights"))
        # The linears' bytes: their f32 bytes less what the pass saved.
        saved = (float(m[-1][0]) - float(m[-1][1])) * 1e6 if m else 0.0
        tfx_linear[s] = (ort_f32_bytes - saved) / ort_f32_bytes

    rows = []
    for t in [int(x) for x in args.threads.split(",")]:
        ort32, err = cpu_bench.time_ort(onnx_f32, t, args.runs, node_modules)
        ort8, err8 = cpu_bench.time_ort(onnx_int8, t, args.runs, node_modules)
        if ort32 is None or ort8 is None:
            sys.exit("ONNX Runtime failed: %s %s" % (err, err8))
        rows.append((t, "ORT f32", ort32, ort32, ort8, "%.1f MB linears" % (ort_f32_bytes / 1e6)))
        rows.append((t, "ORT int8 dynamic", ort8, ort32, ort8,
                     "%.1f MB linears (%.3fx)" % (ort_int8_bytes / 1e6,
                                                 ort_int8_bytes / ort_f32_bytes)))
        base = None
        for s in schemes:
            ms = tfx_time(args.build, os.path.join(work, "q-" + s + ".so"), inputs, t, args.runs)
            base = base or ms
            rows.append((t, "tfx " + s, ms, base, ort8,
                         "%.1f MB blob (%.3fx), linears %.3fx" % (
                             tfx_bytes[s] / 1e6, tfx_bytes[s] / tfx_bytes["f32"],
                             tfx_linear[s])))
    print("%-7s %-18s %10s %9s %9s  %s" % ("threads", "model", "latency", "vs f32", "vs ORT8",
                                           "weights"))
    for t, name, ms, f32, ort8, size in rows:
        print("%-7d %-18s %7.1f ms %8.2fx %8.2fx  %s" % (t, name, ms, f32 / ms, ort8 / ms, size))
    print("(BERT-base shape, [1, 128], median of %d runs; 'vs f32': speedup over the same "
          "runtime's f32; 'vs ORT8': over ONNX Runtime int8 dynamic)" % args.runs)


if __name__ == "__main__":
    main()
