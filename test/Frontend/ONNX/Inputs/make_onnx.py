"""Writes the small ONNX models the frontend tests import.

usage: make_onnx.py KIND OUT.onnx
"""
import os
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


def one_node(node, inputs, opset=17, inits=()):
    """A graph of `node` whose output is `y`."""
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return model([node], inputs, [y], inits, opset=opset)


def f32_input(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def bad_attr_kind():
    return one_node(helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=1.0),
                    [f32_input("x", [2, 3])])


def bad_axis():
    return one_node(helper.make_node("Concat", ["x", "x"], ["y"], name="cat", axis=5),
                    [f32_input("x", [2, 3])])


def no_broadcast():
    return one_node(helper.make_node("Add", ["x", "z"], ["y"], name="add"),
                    [f32_input("x", [2, 3]), f32_input("z", [4])])


def negative_step():
    consts = [numpy_helper.from_array(np.array([v], np.int64), n)
              for n, v in (("s", -1), ("e", -100), ("a", 0), ("st", -1))]
    return one_node(helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"], name="reverse"),
                    [f32_input("x", [2, 3])], inits=consts)


def old_opset():
    return one_node(helper.make_node("Relu", ["x"], ["y"], name="relu"),
                    [f32_input("x", [2, 3])], opset=9)


def no_shape():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    return one_node(helper.make_node("Relu", ["x"], ["y"], name="relu"), [x])


def runtime_shape():
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    return one_node(helper.make_node("Reshape", ["x", "s"], ["y"], name="dynamic_reshape"),
                    [f32_input("x", [2, 3]), s])


def undefined_input():
    return one_node(helper.make_node("Add", ["x", "ghost"], ["y"], name="haunted"),
                    [f32_input("x", [2, 3])])


def bad_constant_of_shape():
    shape = numpy_helper.from_array(np.array([2, 3], np.int64), "shape")
    value = numpy_helper.from_array(np.array([1.0, 2.0], np.float32))
    return one_node(helper.make_node("ConstantOfShape", ["shape"], ["y"], name="fill", value=value),
                    [], inits=[shape])


def bad_split():
    sizes = numpy_helper.from_array(np.array([1, 1], np.int64), "sizes")
    m = model([helper.make_node("Split", ["x", "sizes"], ["y", "z"], name="halves", axis=1)],
              [f32_input("x", [2, 3])],
              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in "yz"], [sizes])
    return m


def external_data(path, count):
    """An initializer of `count` floats whose external data stops short, and
    an inputs file for tfx-run beside the model."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models"))
    from safetensors_io import write_safetensors
    write_safetensors(path[:-len(".onnx")] + ".safetensors",
                      {"input.x": np.ones(count, np.float32)})
    with open(path + ".bin", "wb") as f:
        f.write(b"\0" * 8)
    t = numpy_helper.from_array(np.zeros(count, np.float32), "table")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", path.split("/")[-1] + ".bin"), ("offset", "4"),
                       ("length", str(4 * count))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return one_node(helper.make_node("Add", ["x", "table"], ["y"], name="add_table"),
                    [f32_input("x", [count])], inits=[t])


def bad_index(path):
    """Gather by runtime ids with an inputs file whose second id is out of
    range: the interpreter's error must name the ONNX node."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models"))
    from safetensors_io import write_safetensors
    write_safetensors(path[:-len(".onnx")] + ".safetensors",
                      {"input.ids": np.array([3, 99], np.int64)})
    table = numpy_helper.from_array(np.ones((25, 4), np.float32), "table")
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [2])
    return one_node(helper.make_node("Gather", ["table", "ids"], ["y"], name="lookup"),
                    [ids], inits=[table])


KINDS = {"folding": folding, "bad_index": lambda: bad_index(sys.argv[2]), "unsupported": unsupported, "domain": domain,
         "bad_attr_kind": bad_attr_kind, "bad_axis": bad_axis, "no_broadcast": no_broadcast,
         "negative_step": negative_step, "old_opset": old_opset, "no_shape": no_shape,
         "runtime_shape": runtime_shape, "undefined_input": undefined_input,
         "bad_constant_of_shape": bad_constant_of_shape, "bad_split": bad_split,
         "external_small": lambda: external_data(sys.argv[2], 4),
         "external_large": lambda: external_data(sys.argv[2], 100)}

if __name__ == "__main__":
    onnx.save(KINDS[sys.argv[1]](), sys.argv[2])
