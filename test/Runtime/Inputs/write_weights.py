"""Writes the sidecar weights of test_artifact.c (18 little-endian f32):
write_weights.py OUT [--size N] [--last VALUE]."""
import argparse
import struct

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--size", type=int, default=72)
parser.add_argument("--last", type=float, default=32.0)
args = parser.parse_args()
values = [1, 2, 3, 0.5, -1, 2, 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, args.last]
data = struct.pack("<18f", *values)
with open(args.out, "wb") as f:
    f.write(data[: args.size])
