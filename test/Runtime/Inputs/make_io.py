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

# The embed-model example: ids and float64-numpy probabilities, and a
# reference with one value off by 1e-3.
probs = [0.34922099, 0.31554522, 0.33523379, 0.37789694, 0.35258508, 0.26951797,
         0.24943189, 0.74383909, 0.00672902, 0.22934706, 0.44830639, 0.32234655]
write(prefix + ".ids.safetensors", {"input.ids": ("I64", [1, 4], [1, 5, 2, 7])})
write(prefix + ".probs.safetensors", {"output.probs": ("F32", [1, 4, 3], probs)})
write(prefix + ".off.safetensors",
      {"output.probs": ("F32", [1, 4, 3], probs[:4] + [probs[4] + 1e-3] + probs[5:])})
