"""Reads and writes the safetensors format with the standard library and numpy.

A file is an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian data. The
header is padded with spaces to a multiple of 8 so that every tensor of a
file written here starts 8-byte aligned, as the reference writer does.
"""
import json
import struct

import numpy as np

_TO_NUMPY = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}
_FROM_NUMPY = {np.dtype(t): name for name, t in _TO_NUMPY.items()}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array} to path; names sorted, data in that order."""
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs, offset = [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        if array.dtype not in _FROM_NUMPY:
            raise TypeError(f"{name}: no safetensors dtype for {array.dtype}")
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _FROM_NUMPY[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def read_safetensors(path):
    """Returns {name: array} (writable copies); BF16 is widened to float32."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    body = memoryview(raw)[8 + length:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        chunk = body[begin:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(chunk, dtype=np.dtype(_TO_NUMPY[info["dtype"]]).newbyteorder("<"))
        out[name] = array.reshape(info["shape"]).astype(array.dtype.newbyteorder("="))
    return out
