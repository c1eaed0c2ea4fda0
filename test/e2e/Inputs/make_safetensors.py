"""Writes a .safetensors file from tensors given on the command line.

usage: make_safetensors.py OUT NAME=DTYPE:SHAPE:VALUES ...
  DTYPE  f32, f16, i64, i32 or bool
  SHAPE  dims joined by 'x' ('' for a scalar)
  VALUES comma-separated, row-major; a single value fills the tensor
"""
import json
import struct
import sys

FORMATS = {"f32": ("F32", "f"), "f16": ("F16", "e"), "i64": ("I64", "q"),
           "i32": ("I32", "i"), "bool": ("BOOL", "?")}


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    header, data = {}, b""
    for spec in specs:
        name, rest = spec.split("=", 1)
        dtype, shape, values = rest.split(":")
        dims = [int(d) for d in shape.split("x")] if shape else []
        count = 1
        for d in dims:
            count *= d
        cast = float if dtype.startswith("f") else int
        items = [cast(v) for v in values.split(",")] if values else []
        if len(items) == 1 and count != 1:
            items = items * count
        if len(items) != count:
            sys.exit("%s: %d values for shape %s" % (name, len(items), dims))
        st_dtype, fmt = FORMATS[dtype]
        blob = struct.pack("<%d%s" % (count, fmt), *items)
        header[name] = {"dtype": st_dtype, "shape": dims,
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
