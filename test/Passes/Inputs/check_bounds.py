"""Checks a compression pass's reported fidelity against bounds.

usage: check_bounds.py LOG --max-rel-l2 X [--min-top1 P]

LOG is the pass's stderr; its last line "...: fidelity vs the input model on
N calibration batches: NAME: rel_l2 X, ..., top1 P% ..." gives each output's
figures. Prints them with the bounds and "OK" when every output's relative
L2 error is at most X and (for outputs with a top-1 figure) its top-1
agreement at least P percent; exits 1 otherwise.
"""
import argparse
import re
import sys

p = argparse.ArgumentParser()
p.add_argument("log")
p.add_argument("--max-rel-l2", type=float, required=True)
p.add_argument("--min-top1", type=float)
args = p.parse_args()
lines = [l for l in open(args.log) if "fidelity vs the input model" in l]
if not lines:
    sys.exit("no fidelity line in " + args.log)
ok = True
found = re.findall(r"(\w+): rel_l2 ([0-9.e+-]+)[^;]*?(?:top1 ([0-9.]+)%)?(?: \(|$)", lines[-1])
if not found:
    sys.exit("no figures in: " + lines[-1])
for name, rel, top1 in found:
    good = float(rel) <= args.max_rel_l2
    text = "%s: rel_l2 %s (at most %g)" % (name, rel, args.max_rel_l2)
    if top1 and args.min_top1 is not None:
        good &= float(top1) >= args.min_top1
        text += ", top1 %s%% (at least %g%%)" % (top1, args.min_top1)
    print(text + ("" if good else " FAILS"))
    ok &= good
print("OK" if ok else "OUT OF BOUNDS")
sys.exit(0 if ok else 1)
