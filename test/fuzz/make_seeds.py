#!/usr/bin/env python3
"""Makes the run-time seed corpora of the fuzz targets (test/fuzz/README.md).

usage: make_seeds.py OUTDIR [--models DIR] [--shared DIR] [--artifacts DIR]

Writes OUTDIR/<target>/ for every target from what exists here: the
project's own test models (--models, made by test/models/make_models.py),
the shared models (--shared), the per-operator ONNX models of the frontend
tests, and compiled test artifacts (--artifacts, *.so). Large inputs are cut
down so that one execution stays fast: ONNX initializers keep their shapes
but lose their data (the importer reads only shapes of large weights),
safetensors files keep names and dtypes with every dimension cut to 2.
"""
import argparse
import glob
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
ONNX_INPUTS = os.path.join(SRC, "test", "Frontend", "ONNX", "Inputs")
BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
         "I8": 1, "U8": 1, "BOOL": 1}


def put(outdir, target, data):
    folder = os.path.join(outdir, target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def read_header(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length))


def safetensors_bytes(entries, metadata=None, cut=2):
    """entries: [(name, dtype, shape)], every dim cut to `cut`; data counts up."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape in entries:
        shape = [min(d, cut) for d in shape]
        count = 1
        for d in shape:
            count *= d
        data = bytes((offset + k) % 251 for k in range(count * BYTES[dtype]))
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def model_folders(roots):
    for root in roots:
        if root and os.path.isdir(root):
            for config in sorted(glob.glob(os.path.join(root, "*", "config.json"))):
                folder = os.path.dirname(config)
                weights = os.path.join(folder, "model.safetensors")
                if os.path.exists(weights):
                    yield folder, config, weights


def seeds_from_models(outdir, roots):
    for folder, config, weights in model_folders(roots):
        header = read_header(weights)
        tensors = [(k, v["dtype"], v["shape"]) for k, v in header.items()
                   if k != "__metadata__"]
        put(outdir, "safetensors", safetensors_bytes(tensors, header.get("__metadata__")))
        shapes = {k: v["shape"] for k, v in header.items() if k != "__metadata__"}
        with open(config, "rb") as f:
            text = f.read()
        put(outdir, "hf_config", text + b"\0" + json.dumps(shapes).encode())
        tokenizer = os.path.join(folder, "tokenizer.json")
        if os.path.exists(tokenizer):
            put(outdir, "tokenizer", small_tokenizer(tokenizer) +
                b"\0def main():\n    print('Hello, world!')  # caf\xc3\xa9 <|endoftext|>")


def small_tokenizer(path, keep=400):
    """The tokenizer with its first `keep` ids and the merges among them."""
    with open(path) as f:
        tok = json.load(f)
    model = tok["model"]
    vocab = {t: i for t, i in model["vocab"].items() if i < keep}
    if "merges" in model:
        merges = []
        for m in model["merges"]:
            left, right = m.split(" ", 1) if isinstance(m, str) else m
            if left in vocab and right in vocab and left + right in vocab:
                merges.append(m)
        model["merges"] = merges
    model["vocab"] = vocab
    tok["added_tokens"] = [a for a in tok.get("added_tokens", []) if a["id"] < keep] + \
        [a for a in tok.get("added_tokens", []) if a["id"] >= keep][:1]
    return json.dumps(tok, separators=(",", ":")).encode()


def skeleton(onnx_path):
    """An ONNX model whose large initializers keep shape and lose data."""
    import onnx
    model = onnx.load(onnx_path, load_external_data=False)
    for init in model.graph.initializer:
        count = 1
        for d in init.dims:
            count *= d
        if count > 64 and init.data_type in (onnx.TensorProto.FLOAT,
                                              onnx.TensorProto.FLOAT16,
                                              onnx.TensorProto.BFLOAT16,
                                              onnx.TensorProto.DOUBLE):
            init.ClearField("raw_data")
            init.ClearField("float_data")
    return model.SerializeToString()


def seeds_onnx(outdir, shared):
    with tempfile.TemporaryDirectory() as tmp:
        for script, kinds in (
                ("make_onnx_ops.py", ["elementwise17", "shapes11", "shapes13", "shapes18",
                                      "reductions11", "reductions13", "reductions18",
                                      "nn17", "nn20"]),
                ("make_onnx.py", ["folding", "unsupported", "domain", "bad_attr_kind",
                                  "bad_axis", "no_broadcast", "negative_step", "old_opset",
                                  "no_shape", "runtime_shape", "undefined_input",
                                  "bad_constant_of_shape", "bad_split"])):
            for kind in kinds:
                target = os.path.join(tmp, kind + (".onnx" if script == "make_onnx.py" else ""))
                subprocess.run([sys.executable, os.path.join(ONNX_INPUTS, script), kind, target],
                               check=True, stdout=subprocess.DEVNULL)
                path = target if target.endswith(".onnx") else target + ".onnx"
                with open(path, "rb") as f:
                    put(outdir, "onnx", f.read())
    if shared and os.path.isdir(shared):
        for path in sorted(glob.glob(os.path.join(shared, "*", "*.onnx"))):
            put(outdir, "onnx", skeleton(path))


def seeds_artifact(outdir, artifacts):
    if not artifacts or not os.path.isdir(artifacts):
        return
    for path in sorted(glob.glob(os.path.join(artifacts, "*.so"))):
        with open(path, "rb") as f:
            put(outdir, "artifact", b"\0" + f.read())  # even first byte: ELF check


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--models", help="the project's own models (make_models.py)")
    ap.add_argument("--shared", help="the shared test models")
    ap.add_argument("--artifacts", help="a folder of compiled .so artifacts")
    args = ap.parse_args()
    seeds_from_models(args.outdir, [args.models, args.shared])
    seeds_onnx(args.outdir, args.shared)
    seeds_artifact(args.outdir, args.artifacts)
    for target in sorted(os.listdir(args.outdir)):
        files = os.listdir(os.path.join(args.outdir, target))
        size = sum(os.path.getsize(os.path.join(args.outdir, target, f)) for f in files)
        print(f"make_seeds: {target}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
