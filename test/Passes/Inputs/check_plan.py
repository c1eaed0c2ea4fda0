"""Checks what tfx-auto-compress produced against its plan file.

usage: check_plan.py PLAN.json MODEL.mlir [--html PAGE.html]
           [--dense D.safetensors --compressed C.safetensors]

- The plan: every layer's choice is one of its available schemes, every
  check meets the budget, and the pipeline names every compressed layer.
- The IR: each layer is stored as its choice says (int8/int4 integers,
  int8 activations, 2:4 values, low-rank factors, or the float weight).
- With DENSE and COMPRESSED (outputs of the float and the compressed model
  on the calibration inputs, measured independently, e.g. by the compiled
  code): the measured fidelity meets the budget and is the one the plan
  reports for the calibration set (rel L2 within 10%, agreement within one
  row in a hundred).
- With --html: the page parses, is self-contained (no script, no external
  reference), and holds the charts and tables a reader needs: a bar per
  available choice of every layer, the chosen point, totals and one table
  row per layer.
Prints "OK" or exits 1.
"""
import argparse
import html.parser
import json
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "Codegen", "CPU", "Inputs"))
import run_artifact  # noqa: E402

# Resource names each choice leaves in the IR for a layer X.
STORED = {
    "float": [],
    "int8": ["{}.q8"],
    "int4-g128": ["{}.q4"],
    "int4": ["{}.q4"],
    "w8a8": ["{}.q8"],
    "2:4": ["{}.values.q8"],
    "low-rank": ["{}.lowrank_a", "{}.lowrank_b"],
    "low-rank+int8": ["{}.lowrank_a.q8", "{}.lowrank_b.q8"],
    "low-rank+int4": ["{}.lowrank_a.q4", "{}.lowrank_b.q4"],
    "low-rank+w8a8": ["{}.lowrank_a.q8", "{}.lowrank_b.q8"],
}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = {}
        self.classes = {}
        self.external = []
        self.rows = {}
        self.table = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for c in (attrs.get("class") or "").split():
            self.classes[(tag, c)] = self.classes.get((tag, c), 0) + 1
        for key in ("src", "href"):
            if key in attrs:
                self.external.append(attrs[key])
        if tag == "table":
            self.table = attrs.get("class")
            self.rows[self.table] = 0
        if tag == "tr" and self.table:
            self.rows[self.table] += 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("plan")
    p.add_argument("mlir")
    p.add_argument("--html")
    p.add_argument("--dense")
    p.add_argument("--compressed")
    a = p.parse_args()

    plan = json.load(open(a.plan))
    if plan.get("tfx_plan") != 1:
        fail("not a plan file")
    ir = open(a.mlir).read()
    kind, budget = plan["budget"]["kind"], plan["budget"]["value"]
    counts = {}
    for layer in plan["layers"]:
        name, choice = layer["name"], layer["choice"]
        counts[choice] = counts.get(choice, 0) + 1
        entry = layer["choices"].get(choice)
        if entry is None or "unavailable" in entry:
            fail("%s: chosen %s is not an available choice" % (name, choice))
        for pattern in STORED[choice]:
            stored = pattern.format(name)
            # (MLIR appends _<n> to a blob name already taken, as by an
            # earlier verification attempt in the same process.)
            if not re.search(r"dense_resource<%s(_\d+)?>" % re.escape(stored), ir):
                fail("%s: chosen %s, but the IR holds no %s" % (name, choice, stored))
        if choice == "float" and "dense_resource<%s." % name in ir:
            fail("%s: chosen float, but the IR holds a compressed form" % name)
        if choice != "float" and name not in plan["pipeline"]:
            fail("%s: compressed, but the pipeline does not name it" % name)
    if any(c.endswith("w8a8") for c in counts) and "tfx.quantize_activations" not in ir:
        fail("W8A8 chosen, but no tfx.quantize_activations in the IR")
    if not plan["checks"]:
        fail("no check of the plan was run")
    for check in plan["checks"]:
        if not check["meets"]:
            fail("the %s check misses the budget" % check["set"])
    print("choices: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))
    print("weights: %.3fx" % (plan["weights"]["bytes"] / plan["weights"]["float_bytes"]))

    if a.dense:
        dense = run_artifact.read_safetensors(a.dense)
        ours = run_artifact.read_safetensors(a.compressed)
        reported = next(c for c in plan["checks"] if c["set"] == "calibration")
        for key in sorted(dense):
            d = dense[key].astype(np.float64)
            c = ours[key].astype(np.float64)
            rel = np.linalg.norm(c - d) / np.linalg.norm(d)
            top1 = float(np.mean(np.argmax(c, -1) == np.argmax(d, -1)))
            if kind == "max-error":
                measured, ok = rel, rel <= budget * 1.001
                close = abs(rel - reported["value"]) <= 0.1 * reported["value"] + 1e-6
            elif kind == "min-agreement":
                measured, ok = top1, top1 >= budget - 0.01
                close = abs(top1 - reported["value"]) <= 0.01 + 1e-9
            else:
                fail("the numerics check covers max-error and min-agreement budgets")
            print("%s: measured %s %.4g, reported %.4g, budget %g" %
                  (key, kind, measured, reported["value"], budget))
            if not ok or not close:
                fail("measured fidelity does not match the plan")

    if a.html:
        page = Page()
        text = open(a.html).read()
        page.feed(text)
        if page.tags.get("script") or page.external or re.search(r"https?://", text):
            fail("the page is not self-contained")
        bars = sum(1 for layer in plan["layers"] for s, e in layer["choices"].items()
                   if s != "float" and "unavailable" not in e)
        if page.tags.get("svg", 0) < 2:
            fail("the page has no charts")
        if page.classes.get(("rect", "chosen"), 0) + counts.get("float", 0) < len(plan["layers"]):
            fail("the sensitivity chart does not mark every chosen scheme")
        if page.tags.get("rect", 0) < bars:
            fail("the sensitivity chart has %d bars for %d choices" % (page.tags.get("rect", 0), bars))
        if page.classes.get(("circle", "chosen-point")) != 1:
            fail("the candidate chart does not mark the chosen plan once")
        if page.rows.get("choices") != len(plan["layers"]) + 1:
            fail("the choice table has %s rows for %d layers" %
                 (page.rows.get("choices"), len(plan["layers"])))
        if page.rows.get("totals") != 3:
            fail("the totals table is incomplete")
        print("html: %d bars, %d svg" % (page.tags.get("rect", 0), page.tags.get("svg", 0)))
    print("OK")


if __name__ == "__main__":
    main()
