"""Padded-mask inputs for a shared model, and a comparison of two runs on
the tokens that are not padding, for checking that tfx-raise keeps the
meaning of attention masks.

usage:
  padded_inputs.py make REFERENCE.safetensors OUT.safetensors {left,right}
  padded_inputs.py compare EXPECTED.safetensors ACTUAL.safetensors INPUTS.safetensors

make: the reference inputs with a padded attention_mask.
  right: row 0 has its last 5 keys padded, row 1 a hole at 6 and its last 2
         keys padded; every query still sees key 0.
  left:  row 0 padded on the right, row 1 its first 3 keys on the left. In
         a causal model the first queries of row 1 then see no key at all;
         exporters write garbage there (a uniform average) and tfx.attention
         writes zeros, so only non-padded tokens can be compared.
compare: every output.* tensor at the [batch, seq] positions the mask keeps,
  |expected - actual| <= 1e-5 + 1e-4 |expected|; exits 1 on a mismatch.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"I64": np.int64, "F32": np.float32, "I32": np.int32}


def read(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    for name, value in tensors.items():
        raw = np.ascontiguousarray(value).tobytes()
        header[name] = {"dtype": names[value.dtype], "shape": list(value.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def make(reference, out, style):
    ref = read(reference)
    mask = np.ones_like(ref["input.attention_mask"])
    batch, seq = mask.shape
    if batch < 2 or seq < 8:
        sys.exit("expected at least 2 rows of 8 tokens, got %s" % (mask.shape,))
    mask[0, seq - 5:] = 0
    if style == "right":
        mask[1, 6] = 0
        mask[1, seq - 2:] = 0
    else:
        mask[1, :3] = 0
    write(out, {"input.input_ids": ref["input.input_ids"], "input.attention_mask": mask})
    print("attention_mask rows:", ["".join(str(int(v)) for v in row) for row in mask])


def compare(expected_path, actual_path, inputs_path):
    expected, actual = read(expected_path), read(actual_path)
    keep = read(inputs_path)["input.attention_mask"] != 0
    ok = True
    for name, e in sorted(expected.items()):
        if not name.startswith("output."):
            continue
        a = actual.get(name)
        if a is None or a.shape != e.shape:
            print("%s: missing or of another shape FAIL" % name)
            ok = False
            continue
        err = np.abs(a - e)[keep]
        bad = err > 1e-5 + 1e-4 * np.abs(e[keep])
        print("%s (unpadded tokens): max_abs_err=%.3e %s" % (name, err.max(), "FAIL" if bad.any() else "OK"))
        ok = ok and not bad.any()
    sys.exit(0 if ok else 1)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "make" and sys.argv[4] in ("left", "right"):
        make(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
