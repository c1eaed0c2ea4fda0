"""Writes rows FIRST..END-1 of a token-id file as input.input_ids.

usage: take_rows.py IN.safetensors FIRST:END OUT.safetensors [--mask]
(the calibration set of a compression pass, disjoint from evaluation rows);
--mask also writes input.attention_mask (all ones), for tfx-run.
"""
import sys

import numpy as np

import lm_heldout

ids = lm_heldout.heldout_ids(sys.argv[1])
first, end = (int(v) for v in sys.argv[2].split(":"))
tensors = {"input.input_ids": ids[first:end].copy()}
if "--mask" in sys.argv[4:]:
    tensors["input.attention_mask"] = np.ones_like(tensors["input.input_ids"])
lm_heldout.ra.write_safetensors(sys.argv[3], tensors)
