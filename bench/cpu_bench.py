#!/usr/bin/python3
"""CPU benchmark: tfx against ONNX Runtime and PyTorch, in one run.

Times, on this machine, a BERT-base-shaped encoder and a GPT-2-small-shaped
decoder forward (batch 1, sequence 128) at 1 and 2 threads with

  tfx          tfx-run MODEL.so --backend cpu --threads T --bench N
  ONNX Runtime onnxruntime-node 1.30 (CPU), bench/ort_time.js
  PyTorch      Debian's python3-torch (OpenBLAS), torch.inference_mode

and prints a table of median latencies, ratios (peer ms / tfx ms: above 1
means tfx is faster) and GFLOP/s against this CPU's SGEMM peak measured by a
numpy (OpenBLAS) microbenchmark. tfx's outputs are checked against PyTorch's.

Setup, once (git-ignored folder):
  (cd bench/.work && npm install --ignore-scripts onnxruntime-node@1.30.0)
Run:
  /usr/bin/python3 bench/cpu_bench.py [--build build] [--runs 15] [--threads 1,2]

The encoder is /work/shared/peers/cpu_peer_model.py's when ../shared exists
(the model the peers' published figures use), else bench/models.py's own.
A program that prints ratios, not a test: it fails only when it cannot run.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
PEER_MODEL = os.path.join(ROOT, "..", "shared", "peers", "cpu_peer_model.py")
PYTHON = "/usr/bin/python3"

MODELS = {
    # name: (kind in models.py, output name, vocab for input ids)
    "bert-base": ("encoder", "last_hidden_state", 30522),
    "gpt2-small": ("decoder", "logits", 50257),
}


def log(message):
    print(message, file=sys.stderr, flush=True)


def thread_env(threads):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run(cmd, timeout, env=None):
    """Runs cmd; returns (ok, stdout, last stderr line)."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False, "", "timed out after %d s" % timeout
    except OSError as err:
        return False, "", str(err)
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    return proc.returncode == 0, proc.stdout, (err[-1] if err else "exit %d" % proc.returncode)


# ---- workers: run in a subprocess so that thread settings apply from the start

def worker_gemm(threads):
    import numpy as np
    best = 0.0
    for n in (1024, 2048, 3072):
        a = np.random.rand(n, n).astype(np.float32)
        b = np.random.rand(n, n).astype(np.float32)
        a @ b
        reps = max(2, int(2e10 / (2 * n ** 3)))
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9)
    print(json.dumps({"gflops": best}))


def worker_torch(name, threads, runs, model_path, ref_path, inputs_path):
    import numpy as np
    import torch
    import models
    torch.set_num_threads(threads)
    kind, output, vocab = MODELS[name]
    model = models.make(kind)
    state = model_path + ".pt"
    if kind == "encoder" and os.path.exists(state):
        model.load_state_dict(torch.load(state))
    ids, mask = models.example_inputs(128, 30522)
    with torch.inference_mode():
        out = model(ids, mask)
        if ref_path and not os.path.exists(ref_path):
            models.write_safetensors(ref_path, {"output." + output: out.numpy()})
            models.write_safetensors(inputs_path, {"input.input_ids": ids.numpy(),
                                                   "input.attention_mask": mask.numpy()})
        for _ in range(2):
            model(ids, mask)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model(ids, mask)
            times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"median_ms": statistics.median(times)}))


# ---- the engines

def gemm_peak(threads):
    ok, out, err = run([PYTHON, __file__, "--worker", "gemm", "--threads", str(threads)],
                       600, thread_env(threads))
    return json.loads(out)["gflops"] if ok else None


def ort_gemm_peak(threads, work, node_modules, n=2048):
    """ONNX Runtime's own SGEMM (MLAS) on one n x n x n MatMul: on CPUs newer
    than the BLAS's kernels it beats OpenBLAS, so the peak is the larger."""
    path = os.path.join(work, "models", "gemm%d.onnx" % n)
    if not os.path.exists(path):
        import onnx
        from onnx import TensorProto, helper
        a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])
        b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])
        c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])],
                                  "gemm", [a, b], [c])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), path)
    ms, err = time_ort(path, threads, 10, node_modules, seq=n)
    return 2 * n ** 3 / (ms / 1e3) / 1e9 if ms else None


def time_torch(name, threads, runs, paths):
    ok, out, err = run([PYTHON, __file__, "--worker", "torch", "--model", name,
                        "--threads", str(threads), "--runs", str(runs),
                        "--model-path", paths["onnx"], "--ref", paths["ref"],
                        "--inputs", paths["inputs"]], 1800, thread_env(threads))
    return (json.loads(out)["median_ms"], None) if ok else (None, err)


def time_ort(path, threads, runs, node_modules, seq=128):
    if not os.path.isdir(os.path.join(node_modules, "onnxruntime-node")):
        return None, "onnxruntime-node not installed in %s" % node_modules
    env = dict(os.environ, NODE_PATH=node_modules)
    ok, out, err = run(["node", os.path.join(HERE, "ort_time.js"), path, str(threads),
                        str(runs), str(seq)], 1800, env)
    return (json.loads(out.splitlines()[-1])["median_ms"], None) if ok else (None, err)


def compile_tfx(build, sources, out_base):
    """tfx-compile --target cpu --emit=so; tries each source form in turn."""
    compiler = os.path.join(build, "bin", "tfx-compile")
    artifact = out_base + ".so"
    # Reuse an artifact newer than both the compiler and the model.
    if os.path.exists(artifact) and os.path.exists(compiler):
        made = os.path.getmtime(artifact)
        if made > os.path.getmtime(compiler) and any(
                os.path.exists(src) and made > os.path.getmtime(src) for src in sources[:1]):
            return artifact, None
    errors = []
    for source in sources:
        ok, _, err = run([compiler, source, "--target", "cpu", "--emit=so", "-o", out_base,
                          "--input-shape", "input_ids=1x128",
                          "--input-shape", "attention_mask=1x128"], 3600)
        if ok and os.path.exists(out_base + ".so"):
            return out_base + ".so", None
        errors.append("%s: %s" % (os.path.basename(source), err))
    return None, "; ".join(errors)


def time_tfx(build, artifact, threads, runs, paths):
    cmd = [os.path.join(build, "bin", "tfx-run"), artifact, "--backend", "cpu",
           "--inputs", paths["inputs"], "--threads", str(threads), "--bench", str(runs),
           "--check", paths["ref"], "--rtol", "1e-3", "--atol", "1e-3"]
    ok, out, err = run(cmd, 1800)
    median = re.search(r"median ([0-9.]+) ms", out)
    checks = re.findall(r"max_abs_err=(\S+) .* (OK|FAIL)", out)
    check = ",".join("%s %s" % (s, e) for e, s in checks) or "-"
    if not median:
        return None, err, check
    return float(median.group(1)), None, check


def prepare(name, work, fresh):
    kind, _, _ = MODELS[name]
    base = os.path.join(work, "models", name)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    paths = {"onnx": base + ".onnx", "folder": base, "ref": base + ".ref.safetensors",
             "inputs": base + ".in.safetensors"}
    if fresh:
        for key in ("onnx", "ref", "inputs"):
            if os.path.exists(paths[key]):
                os.remove(paths[key])
    if not os.path.exists(paths["onnx"]):
        log("making %s" % paths["onnx"])
        if kind == "encoder" and os.path.exists(PEER_MODEL):
            cmd = [PYTHON, PEER_MODEL, paths["onnx"]]
        else:
            cmd = [PYTHON, os.path.join(HERE, "models.py"), kind, paths["onnx"]]
            if kind == "decoder":
                cmd += ["--folder", paths["folder"]]
        ok, _, err = run(cmd, 1800)
        if not ok:
            sys.exit("cannot make %s: %s" % (name, err))
    return paths


def fmt(value, spec="%.1f"):
    return spec % value if value is not None else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--work", default=os.path.join(HERE, ".work"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--fresh", action="store_true", help="remake the models")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    parser.add_argument("--ref", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "gemm":
        return worker_gemm(int(args.threads))
    if args.worker == "torch":
        return worker_torch(args.model, int(args.threads), args.runs, args.model_path,
                            args.ref, args.inputs)

    import models
    args.build = os.path.abspath(args.build)
    threads = [int(t) for t in args.threads.split(",")]
    names = args.models.split(",")
    node_modules = os.path.join(args.work, "node_modules")
    os.makedirs(os.path.join(args.work, "tfx"), exist_ok=True)

    os.makedirs(os.path.join(args.work, "models"), exist_ok=True)
    load = os.getloadavg()[0]
    peaks, peak_parts = {}, {}
    for t in threads:
        blas, mlas = gemm_peak(t), ort_gemm_peak(t, args.work, node_modules)
        peaks[t] = max([p for p in (blas, mlas) if p] or [None]) if blas or mlas else None
        peak_parts[t] = (blas, mlas)
        log("SGEMM peak, %d thread(s): OpenBLAS %s, ORT MLAS %s GFLOP/s"
            % (t, fmt(blas), fmt(mlas)))

    rows, notes = [], []
    for name in names:
        paths = prepare(name, args.work, args.fresh)
        gflop = models.flops(MODELS[name][0]) / 1e9
        results = {}
        for t in threads:
            # PyTorch first: its first run also writes the inputs and reference.
            results[("torch", t)] = time_torch(name, t, args.runs, paths)
            log("%s PyTorch %dT: %s" % (name, t, results[("torch", t)]))
            results[("ort", t)] = time_ort(paths["onnx"], t, args.runs, node_modules)
            log("%s ORT %dT: %s" % (name, t, results[("ort", t)]))
        sources = [paths["onnx"]] + ([paths["folder"]] if os.path.isdir(paths["folder"]) else [])
        artifact, compile_error = compile_tfx(args.build, sources,
                                              os.path.join(args.work, "tfx", name))
        if compile_error:
            notes.append("%s: tfx compile failed: %s" % (name, compile_error))
        for t in threads:
            if artifact:
                ms, err, check = time_tfx(args.build, artifact, t, args.runs, paths)
                if err:
                    notes.append("%s %dT: tfx-run failed: %s" % (name, t, err))
            else:
                ms, check = None, "-"
            log("%s tfx %dT: %s" % (name, t, ms))
            torch_ms, torch_err = results[("torch", t)]
            ort_ms, ort_err = results[("ort", t)]
            for engine, err in (("PyTorch", torch_err), ("ORT", ort_err)):
                if err:
                    notes.append("%s %dT: %s failed: %s" % (name, t, engine, err))
            rows.append((name, t, gflop, ms, ort_ms, torch_ms, peaks[t], check))

    print("\nCPU benchmark (batch 1, sequence 128, f32; median of %d runs)" % args.runs)
    print("SGEMM peak, the better of numpy/OpenBLAS and ONNX Runtime's MLAS (2048^3): " +
          ", ".join("%s GFLOP/s at %d thread(s) (OpenBLAS %s, MLAS %s)"
                    % (fmt(peaks[t]), t, fmt(peak_parts[t][0]), fmt(peak_parts[t][1]))
                    for t in threads))
    print("Load average when it started: %.2f on %d cores (other work skews the "
          "2-thread figures)" % (load, os.cpu_count()))
    header = ("model", "thr", "GFLOP", "tfx ms", "ORT ms", "PyTorch ms", "ORT/tfx",
              "PyTorch/tfx", "tfx GFLOP/s", "tfx %peak", "ORT %peak", "tfx check")
    table = []
    for name, t, gflop, tfx_ms, ort_ms, torch_ms, peak, check in rows:
        def rate(ms):
            return gflop / (ms / 1e3) if ms else None

        def share(ms):
            return 100 * rate(ms) / peak if ms and peak else None

        table.append((name, str(t), "%.1f" % gflop, fmt(tfx_ms), fmt(ort_ms), fmt(torch_ms),
                      fmt(ort_ms / tfx_ms if tfx_ms and ort_ms else None, "%.2fx"),
                      fmt(torch_ms / tfx_ms if tfx_ms and torch_ms else None, "%.2fx"),
                      fmt(rate(tfx_ms)), fmt(share(tfx_ms), "%.0f%%"),
                      fmt(share(ort_ms), "%.0f%%"), check))
    widths = [max(len(r[c]) for r in table + [header]) for c in range(len(header))]
    for r in [header] + table:
        print("  ".join(cell.rjust(w) if i else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(r, widths))))
    print("Ratios are peer ms / tfx ms: above 1.00x, tfx is faster.")
    for note in notes:
        print("note: " + note)


if __name__ == "__main__":
    main()
