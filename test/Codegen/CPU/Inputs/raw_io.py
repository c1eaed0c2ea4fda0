"""Raw tensor files for call_entry.c.

usage: raw_io.py split IN.safetensors DIR NAME...   writes DIR/NAME.bin for
                                                     each input.NAME
       raw_io.py check REF.safetensors NAME OUT.bin  compares OUT.bin (f32,
                                                     the shape of output.NAME)
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_artifact  # noqa: E402


def main():
    mode, path = sys.argv[1], sys.argv[2]
    tensors = run_artifact.read_safetensors(path)
    if mode == "split":
        for name in sys.argv[4:]:
            tensors["input." + name].tofile(os.path.join(sys.argv[3], name + ".bin"))
        return 0
    want = tensors["output." + sys.argv[3]].astype(np.float64)
    got = np.fromfile(sys.argv[4], dtype=np.float32).reshape(want.shape)
    err = np.abs(got - want)
    ok = bool(np.all(err <= 1e-5 + 1e-4 * np.abs(want)))
    print("output.%s: max_abs_err=%.3e %s" % (sys.argv[3], err.max(), "OK" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
