"""Runs an entry of a compiled shared-object artifact without the runtime:
reads the tfx_artifact descriptor (runtime/include/tfx/artifact.h) through
ctypes, calls the entry with a sequential parallel_for, and compares the
outputs with a reference.

usage: run_artifact.py ARTIFACT.so INPUTS.safetensors
           [--check REF.safetensors] [--rtol R] [--atol A]
           [--output OUT.safetensors] [--entry NAME]

Inputs are the `input.<name>` tensors of INPUTS; outputs are compared with
(or written as) `output.<name>`. Prints one line per output:
`output.<name>: max_abs_err=... max_rel_err=... OK|FAIL`; exits 1 on FAIL.
"""
import argparse
import ctypes
import json
import os
import struct
import sys

import numpy as np

MAX_RANK = 8
DTYPES = {0: np.float32, 1: np.float16, 3: np.int64, 4: np.int32, 5: np.int8,
          6: np.uint8, 7: np.bool_}
ST_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64,
             "I32": np.int32, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
             "F64": np.float64}


class Tensor(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.c_int64 * MAX_RANK)]


BODY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64)
PARALLEL_FOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int64, BODY,
                                ctypes.c_void_p)
ENTRY_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_void_p, ctypes.c_void_p)


class ExecEnv(ctypes.Structure):
    _fields_ = [("parallel_for", PARALLEL_FOR), ("pool", ctypes.c_void_p),
                ("scratch", ctypes.c_void_p)]


class Entry(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("num_inputs", ctypes.c_int32),
                ("num_outputs", ctypes.c_int32),
                ("inputs", ctypes.POINTER(Tensor)),
                ("outputs", ctypes.POINTER(Tensor)),
                ("scratch_bytes", ctypes.c_uint64), ("fn", ENTRY_FN)]


class Artifact(ctypes.Structure):
    _fields_ = [("magic", ctypes.c_char * 8), ("abi_version", ctypes.c_uint32),
                ("num_entries", ctypes.c_uint32),
                ("cpu_features", ctypes.c_uint64),
                ("target_cpu", ctypes.c_char_p), ("model_name", ctypes.c_char_p),
                ("weights", ctypes.c_void_p), ("weights_size", ctypes.c_uint64),
                ("weights_file", ctypes.c_char_p),
                ("weights_checksum", ctypes.c_uint64),
                ("entries", ctypes.POINTER(Entry))]


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end],
                            dtype=ST_DTYPES[info["dtype"]])
        out[name] = arr.reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    names = {np.dtype(v): k for k, v in ST_DTYPES.items()}
    header, blob = {}, b""
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


def aligned(nbytes, alignment=64):
    raw = np.zeros(nbytes + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset:offset + nbytes]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("artifact")
    p.add_argument("inputs")
    p.add_argument("--check")
    p.add_argument("--output")
    p.add_argument("--entry")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    args = p.parse_args()

    lib = ctypes.CDLL(os.path.abspath(args.artifact))
    art = Artifact.in_dll(lib, "tfx_artifact_main")
    assert art.magic == b"TFXART01", art.magic
    entries = [art.entries[k] for k in range(art.num_entries)]
    entry = entries[0]
    for e in entries:
        if args.entry and e.name.decode() == args.entry:
            entry = e
    weights = art.weights
    keep = []
    if not weights and art.weights_file:
        path = os.path.join(os.path.dirname(os.path.abspath(args.artifact)),
                            art.weights_file.decode())
        blob = aligned(art.weights_size)
        blob[:] = np.fromfile(path, dtype=np.uint8)
        keep.append(blob)
        weights = blob.ctypes.data

    feeds = read_safetensors(args.inputs)
    in_arrays = []
    for k in range(entry.num_inputs):
        t = entry.inputs[k]
        name = t.name.decode()
        shape = tuple(t.shape[:t.rank])
        if "input." + name not in feeds and "mask" in name:
            # Reference files of models without padding carry no mask.
            print("note: no input.%s; using ones" % name)
            feeds["input." + name] = np.ones(shape, dtype=DTYPES[t.dtype])
        arr = np.ascontiguousarray(feeds["input." + name].astype(DTYPES[t.dtype]))
        if arr.shape != shape:
            sys.exit("input %s has shape %s, the entry wants %s"
                     % (name, arr.shape, shape))
        in_arrays.append(arr)
    out_arrays = []
    for k in range(entry.num_outputs):
        t = entry.outputs[k]
        shape = tuple(t.shape[:t.rank])
        out_arrays.append(np.full(shape, 7, dtype=DTYPES[t.dtype]))
    scratch = aligned(max(entry.scratch_bytes, 1))

    def parallel_for(pool, count, body, closure):
        for i in range(count):
            body(closure, i)

    env = ExecEnv(PARALLEL_FOR(parallel_for), None, scratch.ctypes.data)
    ins = (ctypes.c_void_p * max(1, len(in_arrays)))(
        *[a.ctypes.data for a in in_arrays])
    outs = (ctypes.c_void_p * max(1, len(out_arrays)))(
        *[a.ctypes.data for a in out_arrays])
    code = entry.fn(ctypes.byref(env), weights, ins, outs)
    print("status %d" % code)
    if code != 0:
        sys.exit(1)
    results = {"output." + entry.outputs[k].name.decode(): out_arrays[k]
               for k in range(entry.num_outputs)}
    if args.output:
        write_safetensors(args.output, results)
    failed = False
    if args.check:
        ref = read_safetensors(args.check)
        for name, got in sorted(results.items()):
            want = ref[name]
            if got.shape != want.shape:
                print("%s: shape %s, reference %s FAIL" % (name, got.shape, want.shape))
                failed = True
                continue
            g, w = got.astype(np.float64), want.astype(np.float64)
            err = np.abs(g - w)
            rel = err / np.maximum(np.abs(w), 1e-30)
            ok = bool(np.all(err <= args.atol + args.rtol * np.abs(w)))
            failed |= not ok
            print("%s: max_abs_err=%.3e max_rel_err=%.3e (rtol=%g atol=%g) %s"
                  % (name, err.max() if err.size else 0.0,
                     rel.max() if rel.size else 0.0, args.rtol, args.atol,
                     "OK" if ok else "FAIL"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
