"""Writes rows FIRST..END-1 of a token-id file as input.input_ids.

usage: take_rows.py IN.safetensors FIRST:END OUT.safetensors
(the calibration set of a compression pass, disjoint from evaluation rows)
"""
import sys

import lm_heldout

ids = lm_heldout.heldout_ids(sys.argv[1])
first, end = (int(v) for v in sys.argv[2].split(":"))
lm_heldout.ra.write_safetensors(sys.argv[3], {"input.input_ids": ids[first:end].copy()})
