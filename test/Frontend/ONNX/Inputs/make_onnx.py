"""Writes the small ONNX models the frontend tests import.

usage: make_onnx.py KIND OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def folding():
    # y = Reshape(x @ W + b, Concat(Shape(x)[0:2], [2, 16])) : the target
    # shape is computed from shapes only and must fold to a static reshape.
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 96)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((96,)).astype(np.float32), "b")
    tail = numpy_helper.from_array(np.array([2, 48], np.int64), "tail")
    nodes = [
        helper.make_node("Gemm", ["x2", "W", "b"], ["g"], name="proj"),
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Slice", ["s", "zero", "two"], ["lead"], name="lead"),
        helper.make_node("Concat", ["lead", "tail"], ["target"], axis=0, name="cat"),
        helper.make_node("Reshape", ["x"], ["x2"], name="flat", allowzero=0),
        helper.make_node("Reshape", ["g", "target"], ["y"], name="unflat"),
    ]
    nodes[4].input.append("flat_shape")
    extra = [numpy_helper.from_array(np.array([0], np.int64), "zero"),
             numpy_helper.from_array(np.array([2], np.int64), "two"),
             numpy_helper.from_array(np.array([-1, 8], np.int64), "flat_shape")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    # Reorder so that every node's inputs are defined first.
    order = [nodes[4], nodes[0], nodes[1], nodes[2], nodes[3], nodes[5]]
    return model(order, [x], [y], [w, b, tail] + extra)


def unsupported():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    return model([helper.make_node("Hardmax", ["x"], ["y"], name="the_hardmax")], [x], [y])


def domain():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("FusedGelu", ["x"], ["y"], name="fused", domain="com.example")
    m = model([node], [x], [y])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    return m


KINDS = {"folding": folding, "unsupported": unsupported, "domain": domain}

if __name__ == "__main__":
    onnx.save(KINDS[sys.argv[1]](), sys.argv[2])
