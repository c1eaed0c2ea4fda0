"""Inputs and references for tfx-run on the hand-written artifact:
make_io.py PREFIX writes PREFIX.{in,ref,bad,int,missing}.safetensors."""
import json
import struct
import sys


def write(path, tensors):
    header, data = {}, b""
    for name, (dtype, shape, values) in tensors.items():
        fmt = {"F32": "f", "I64": "q"}[dtype]
        blob = struct.pack("<%d%s" % (len(values), fmt), *values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


prefix = sys.argv[1]
x = [k * 0.5 for k in range(12)]
scale, shift = [1, 2, 3], [0.5, -1, 2]
y = [x[k] * scale[k % 3] + shift[k % 3] for k in range(12)]
write(prefix + ".in.safetensors", {"input.x": ("F32", [4, 3], x),
                                   "input.unused": ("F32", [1], [0])})
write(prefix + ".ref.safetensors", {"output.y": ("F32", [4, 3], y)})
write(prefix + ".bad.safetensors", {"input.x": ("F32", [4, 2], x[:8])})
write(prefix + ".int.safetensors", {"input.x": ("I64", [4, 3], list(range(12)))})
write(prefix + ".missing.safetensors", {"input.ids": ("I64", [2], [0, 1])})
