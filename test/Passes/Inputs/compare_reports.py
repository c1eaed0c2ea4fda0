"""Checks that the first of two compression reports measured a smaller
relative L2 error of every output on the calibration data than the second.

usage: compare_reports.py BETTER.log WORSE.log
Prints both figures and "OK", or exits 1.
"""
import re
import sys


def rel_l2(path):
    text = open(path).read()
    line = [l for l in text.splitlines() if "fidelity vs the input model" in l]
    if not line:
        sys.exit("no fidelity line in " + path)
    return {name: float(v) for name, v in re.findall(r"(\w+): rel_l2 ([0-9.e+-]+)", line[-1])}


better, worse = rel_l2(sys.argv[1]), rel_l2(sys.argv[2])
ok = bool(better) and better.keys() == worse.keys()
for name in better:
    print(f"{name}: rel_l2 {better[name]:.4e} vs {worse.get(name, float('nan')):.4e}")
    ok = ok and better[name] < worse[name]
print("OK" if ok else "WORSE")
sys.exit(0 if ok else 1)
