"""Writes a byte-level BPE tokenizer.json with no merges (token id = byte
value, spelled as GPT-2's printable stand-ins), and optionally the
input_ids the text of a file becomes under it.

usage: byte_tokenizer.py OUT/tokenizer.json [TEXT ROWS_OF OUT.safetensors]
With TEXT, writes input.input_ids [rows, ROWS_OF]: the text's bytes cut
into rows of ROWS_OF tokens (the remainder dropped), as tfx's calibration
reads a text file with this tokenizer.
"""
import json
import sys

import numpy as np

import lm_heldout


def byte_chars():
    """GPT-2's bytes_to_unicode: printable bytes stand for themselves, the
    others for code points from 256 up."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


chars = byte_chars()
tokenizer = {
    "version": "1.0", "added_tokens": [], "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
    "decoder": {"type": "ByteLevel"},
    "model": {"type": "BPE", "vocab": {chars[b]: b for b in range(256)}, "merges": []},
}
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(tokenizer, f, ensure_ascii=False)
if len(sys.argv) > 2:
    data = open(sys.argv[2], "rb").read()
    seq = int(sys.argv[3])
    rows = len(data) // seq
    ids = np.frombuffer(data[:rows * seq], dtype=np.uint8).astype(np.int64).reshape(rows, seq)
    lm_heldout.ra.write_safetensors(sys.argv[4], {"input.input_ids": ids})
