"""Writes small ONNX models that exercise one operator each, with numpy
references, for `tfx-run MODEL.onnx --no-raise --inputs REF --check REF`.

usage: make_onnx_ops.py KIND OUT_PREFIX
  writes OUT_PREFIX.onnx and OUT_PREFIX.safetensors (input.<name>, output.<name>)

The references are numpy re-statements of the ONNX operator specifications,
written independently of the importer, so a wrong mapping (axis, opset rule,
attribute default) shows up as a numeric mismatch.
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "models"))
from safetensors_io import write_safetensors  # noqa: E402

RNG = np.random.default_rng(7)
ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
             np.dtype(np.int32): TensorProto.INT32, np.dtype(np.bool_): TensorProto.BOOL}


class Builder:
    """Collects nodes, constant inputs and numpy references of one graph."""

    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.feeds, self.expected = {}, {}
        self.count = 0

    def input(self, name, array):
        self.inputs.append(helper.make_tensor_value_info(
            name, ONNX_TYPE[array.dtype], list(array.shape)))
        self.feeds[name] = array
        return name

    def const(self, array, name=None):
        self.count += 1
        name = name or f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, n_out=1, **attrs):
        self.count += 1
        outs = [f"{op.lower()}{self.count}_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=f"{op}_{self.count}", **attrs))
        return outs[0] if n_out == 1 else outs

    def output(self, name, value, expected):
        """Graph output `name` is `value`, expected to equal `expected`."""
        self.nodes.append(helper.make_node("Identity", [value], [name], name=f"out_{name}"))
        expected = np.asarray(expected)
        self.outputs.append(helper.make_tensor_value_info(name, ONNX_TYPE[expected.dtype], None))
        self.expected[name] = expected

    def unsqueeze(self, value, axes, opset):
        if opset < 13:
            return self.node("Unsqueeze", [value], axes=axes)
        return self.node("Unsqueeze", [value, self.const(np.array(axes, np.int64))])

    def save(self, prefix, opset):
        graph = helper.make_graph(self.nodes, "ops", self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.save(model, prefix + ".onnx")
        tensors = {f"input.{k}": v for k, v in self.feeds.items()}
        tensors.update({f"output.{k}": v for k, v in self.expected.items()})
        write_safetensors(prefix + ".safetensors", tensors)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


erf = np.vectorize(math.erf, otypes=[np.float32])


def elementwise():
    b = Builder()
    xv, yv = f32(2, 3, 4), f32(3, 1)
    x, y = b.input("x", xv), b.input("y", yv)
    pos = b.node("Add", [b.node("Abs", [x]), b.const(np.float32(1))])
    posv = np.abs(xv) + 1
    b.output("add", b.node("Add", [x, y]), xv + yv)
    b.output("sub", b.node("Sub", [y, x]), yv - xv)
    b.output("div", b.node("Div", [x, pos]), xv / posv)
    b.output("pow_int", b.node("Pow", [x, b.const(np.int64(2))]), xv ** 2)
    b.output("pow", b.node("Pow", [pos, y]), posv ** yv)
    b.output("unary", b.node("Sum", [b.node("Tanh", [x]), b.node("Sigmoid", [x]),
                                     b.node("Erf", [x]), b.node("Relu", [x])]),
             np.tanh(xv) + 1 / (1 + np.exp(-xv)) + erf(xv) + np.maximum(xv, 0))
    b.output("math", b.node("Sum", [b.node("Log", [pos]), b.node("Sqrt", [pos]),
                                    b.node("Reciprocal", [pos]), b.node("Neg", [b.node("Exp", [x])]),
                                    b.node("Cos", [x]), b.node("Sin", [x])]),
             np.log(posv) + np.sqrt(posv) + 1 / posv - np.exp(xv) + np.cos(xv) + np.sin(xv))
    b.output("minmax", b.node("Max", [x, y, b.node("Min", [x, b.const(np.float32(0.25))])]),
             np.maximum(np.maximum(xv, yv), np.minimum(xv, 0.25)))
    b.output("clip", b.node("Clip", [x, b.const(np.float32(-0.5)), b.const(np.float32(0.5))]),
             np.clip(xv, -0.5, 0.5))
    gt, le = b.node("Greater", [x, y]), b.node("LessOrEqual", [x, b.const(np.float32(0.5))])
    logic = b.node("Or", [b.node("And", [gt, le]), b.node("Not", [b.node("Less", [x, y])])])
    logicv = ((xv > yv) & (xv <= 0.5)) | ~(xv < yv)
    b.output("logic", b.node("Cast", [logic], to=TensorProto.FLOAT), logicv.astype(np.float32))
    b.output("where", b.node("Where", [b.node("GreaterOrEqual", [x, y]), x, b.node("Neg", [y])]),
             np.where(xv >= yv, xv, -yv))
    b.output("equal", b.node("Equal", [b.node("Cast", [x], to=TensorProto.INT64),
                                       b.const(np.int64(0))]),
             xv.astype(np.int64) == 0)
    b.output("isnan", b.node("IsNaN", [b.node("Sqrt", [x])]), np.isnan(np.sqrt(xv)))
    ids = b.input("ids", np.array([[3, -1, 7], [0, 2, 5]], np.int32))
    b.output("int32", b.node("Mul", [b.node("Cast", [ids], to=TensorProto.FLOAT), b.const(np.float32(0.5))]),
             np.array([[3, -1, 7], [0, 2, 5]], np.float32) * 0.5)
    b.output("dropout", b.node("Dropout", [b.node("Identity", [x])]), xv)
    return b


def shapes(opset):
    b = Builder()
    xv = f32(2, 3, 4)
    x = b.input("x", xv)
    # Reshape through a shape computed from Shape/Gather/Concat.
    shp = b.node("Shape", [x])
    lead = b.node("Gather", [shp, b.const(np.int64(0))], axis=0)
    target = b.node("Concat", [b.unsqueeze(lead, [0], opset),
                               b.const(np.array([-1], np.int64))], axis=0)
    b.output("reshape", b.node("Reshape", [x, target]), xv.reshape(2, 12))
    b.output("reshape0", b.node("Reshape", [x, b.const(np.array([0, 0, 2, 2], np.int64))]),
             xv.reshape(2, 3, 2, 2))
    b.output("flatten", b.node("Flatten", [x], axis=-1), xv.reshape(6, 4))
    b.output("flatten0", b.node("Flatten", [x], axis=0), xv.reshape(1, 24))
    b.output("transpose", b.node("Transpose", [x], perm=[2, 0, 1]), xv.transpose(2, 0, 1))
    b.output("transpose_default", b.node("Transpose", [x]), xv.transpose(2, 1, 0))
    b.output("expand", b.node("Expand", [b.const(np.arange(3, dtype=np.float32).reshape(3, 1)),
                                          b.const(np.array([2, 1, 4], np.int64))]),
             np.broadcast_to(np.arange(3, dtype=np.float32).reshape(3, 1), (2, 3, 4)))
    b.output("concat", b.node("Concat", [x, b.node("Neg", [x])], axis=-1),
             np.concatenate([xv, -xv], axis=-1))
    b.output("gather", b.node("Gather", [x, b.const(np.array([[-1, 0], [2, 1]], np.int64))], axis=2),
             np.take(xv, [[-1, 0], [2, 1]], axis=2))
    gidx = RNG.integers(0, 3, (2, 2, 4)).astype(np.int64)
    b.output("gather_elements", b.node("GatherElements", [x, b.const(gidx)], axis=1),
             np.take_along_axis(xv, gidx, axis=1))
    b.output("gather_nd", b.node("GatherND", [x, b.const(np.array([[1, 2], [0, -1]], np.int64))]),
             np.stack([xv[1, 2], xv[0, -1]]))
    if opset >= 12:
        b.output("gather_nd_batch", b.node("GatherND", [x, b.const(np.array([[2], [0]], np.int64))],
                                           batch_dims=1),
                 np.stack([xv[0, 2], xv[1, 0]]))
    # Slices: negative and clamped bounds, axes, steps.
    big = np.iinfo(np.int64).max
    b.output("slice", b.node("Slice", [x, b.const(np.array([1, -10], np.int64)),
                                       b.const(np.array([big, 2], np.int64)),
                                       b.const(np.array([-1, 1], np.int64)),
                                       b.const(np.array([2, 1], np.int64))]),
             xv[:, 0:2, 1::2])
    b.output("slice_neg", b.node("Slice", [x, b.const(np.array([-3], np.int64)),
                                           b.const(np.array([-1], np.int64))]),
             xv[-3:-1])
    # Range, ConstantOfShape and Size on shapes, folded at import.
    n = b.node("Gather", [b.node("Shape", [x]), b.const(np.int64(2))], axis=0)
    r = b.node("Cast", [b.node("Range", [b.const(np.int64(0)), n, b.const(np.int64(1))])],
               to=TensorProto.FLOAT)
    fr = b.node("Range", [b.const(np.float32(0.5)), b.const(np.float32(2.5)), b.const(np.float32(0.5))])
    cos = b.node("ConstantOfShape", [b.node("Shape", [x])],
                 value=numpy_helper.from_array(np.array([2.0], np.float32)))
    size = b.node("Cast", [b.node("Size", [x])], to=TensorProto.FLOAT)
    b.output("ranges", b.node("Sum", [b.node("Mul", [x, r]), fr, cos, size]),
             xv * np.arange(4, dtype=np.float32) + np.arange(0.5, 2.5, 0.5, dtype=np.float32) + 2 + 24)
    if opset >= 15:
        tail = b.node("Shape", [x], start=-2)
        b.output("shape_slice", b.node("Reshape", [x, b.node("Concat", [b.const(np.array([-1], np.int64)),
                                                                          tail], axis=0)]),
                 xv.reshape(2, 3, 4))
    # Squeeze/Unsqueeze: axes attribute before opset 13, input after.
    if opset < 13:
        u = b.node("Unsqueeze", [x], axes=[0, -1])
        s = b.node("Squeeze", [u], axes=[0])
        parts = b.node("Split", [x], n_out=2, axis=1, split=[1, 2])
    else:
        u = b.node("Unsqueeze", [x, b.const(np.array([0, -1], np.int64))])
        s = b.node("Squeeze", [u, b.const(np.array([0], np.int64))])
        parts = b.node("Split", [x, b.const(np.array([1, 2], np.int64))], n_out=2, axis=1)
    b.output("unsqueeze", u, xv[None, :, :, :, None])
    b.output("squeeze", s, xv[:, :, :, None])
    b.output("squeeze_all", b.node("Squeeze", [u]), xv)
    b.output("split0", parts[0], xv[:, :1])
    b.output("split1", parts[1], xv[:, 1:])
    if opset >= 18:
        y = b.input("y", f32(2, 5))
        halves = b.node("Split", [y], n_out=2, axis=-1, num_outputs=2)
        b.output("split_uneven0", halves[0], b.feeds["y"][:, :3])
        b.output("split_uneven1", halves[1], b.feeds["y"][:, 3:])
    elif opset >= 13:
        thirds = b.node("Split", [x], n_out=2, axis=2)
        b.output("split_even0", thirds[0], xv[:, :, :2])
        b.output("split_even1", thirds[1], xv[:, :, 2:])
    return b


def reductions(opset):
    b = Builder()
    xv = f32(2, 3, 4)
    x = b.input("x", xv)

    def reduce(op, axes, keepdims=1, **extra):
        if axes is None:
            return b.node(op, [x], keepdims=keepdims, **extra)
        input_from = 13 if op == "ReduceSum" else 18
        if opset >= input_from:
            return b.node(op, [x, b.const(np.array(axes, np.int64))], keepdims=keepdims, **extra)
        return b.node(op, [x], axes=axes, keepdims=keepdims, **extra)

    b.output("sum", reduce("ReduceSum", [1], keepdims=0), xv.sum(axis=1))
    b.output("mean", reduce("ReduceMean", [-1]), xv.mean(axis=-1, keepdims=True))
    b.output("max", reduce("ReduceMax", [0, 2]), xv.max(axis=(0, 2), keepdims=True))
    # A rank-0 result (safetensors files here hold rank >= 1, hence the
    # Unsqueeze, which also checks that the rank is 0).
    b.output("min_all", b.unsqueeze(reduce("ReduceMin", None, keepdims=0), [0], opset),
             np.array([xv.min()]))
    if opset >= 18:
        b.output("noop", reduce("ReduceMean", None, noop_with_empty_axes=1), xv)
    # Softmax: opset 13 normalizes one axis, before it the flattened tail.
    if opset >= 13:
        b.output("softmax1", b.node("Softmax", [x], axis=1), softmax(xv, 1))
        b.output("softmax_default", b.node("Softmax", [x]), softmax(xv, -1))
    else:
        b.output("softmax1", b.node("Softmax", [x], axis=1),
                 softmax(xv.reshape(2, 12), 1).reshape(2, 3, 4))
        b.output("softmax_default", b.node("Softmax", [x]),
                 softmax(xv.reshape(2, 12), 1).reshape(2, 3, 4))
        b.output("softmax_last", b.node("Softmax", [x], axis=2), softmax(xv, 2))
    return b


def layer_norm(xv, axis, scale, bias, eps):
    axes = tuple(range(axis % xv.ndim, xv.ndim))
    mean = xv.mean(axis=axes, keepdims=True)
    var = ((xv - mean) ** 2).mean(axis=axes, keepdims=True)
    out = (xv - mean) / np.sqrt(var + eps) * scale
    return out + bias if bias is not None else out


def nn(opset):
    b = Builder()
    xv = f32(2, 3, 4)
    x = b.input("x", xv)
    g1, b1 = f32(4), f32(4)
    b.output("ln_last", b.node("LayerNormalization", [x, b.const(g1), b.const(b1)], epsilon=1e-3),
             layer_norm(xv, -1, g1, b1, 1e-3))
    g2 = f32(3, 4)
    b.output("ln_two_axes", b.node("LayerNormalization", [x, b.const(g2)], axis=-2),
             layer_norm(xv, -2, g2, None, 1e-5))
    a2 = b.node("Reshape", [x, b.const(np.array([6, 4], np.int64))])
    a2v = xv.reshape(6, 4)
    w, c = f32(4, 5), f32(5)
    b.output("gemm", b.node("Gemm", [a2, b.const(w), b.const(c)]), a2v @ w + c)
    wt, c2 = f32(5, 4), f32(6, 5)
    b.output("gemm_scaled", b.node("Gemm", [a2, b.const(wt), b.const(c2)], transB=1, alpha=0.5, beta=2.0),
             0.5 * (a2v @ wt.T) + 2.0 * c2)
    at = b.node("Transpose", [a2])
    b.output("gemm_trans_a", b.node("Gemm", [at, b.const(w)], transA=1), a2v @ w)
    # A large float constant becomes a weight read by the Constant's output.
    table = f32(4, 25)
    const = b.node("Constant", [], value=numpy_helper.from_array(table, "table"))
    b.output("matmul_const", b.node("MatMul", [x, const]), xv @ table)
    wb = f32(2, 4, 3)
    b.output("matmul_batched", b.node("MatMul", [x, b.const(wb)]), xv @ wb)
    b.output("matmul_vec", b.node("MatMul", [x, b.const(g1)]), xv @ g1)
    b.output("tril", b.node("Trilu", [x, b.const(np.int64(1))], upper=0),
             np.tril(xv, 1))
    b.output("triu", b.node("Trilu", [x]), np.triu(xv))
    if opset >= 20:
        b.output("gelu", b.node("Gelu", [x]), 0.5 * xv * (1 + erf(xv / np.sqrt(2))))
        b.output("gelu_tanh", b.node("Gelu", [x], approximate="tanh"),
                 0.5 * xv * (1 + np.tanh(np.sqrt(2 / np.pi) * (xv + 0.044715 * xv ** 3))))
    return b


def external(prefix):
    """Weights in a side file (one past a gap, so offsets matter), a large
    Constant read by its output name, and a large folded table."""
    b = Builder()
    xv = f32(2, 8)
    x = b.input("x", xv)
    w, bias = f32(8, 16), f32(16)
    blob = b"\0" * 64 + w.tobytes() + bias.tobytes()
    with open(prefix + ".bin", "wb") as f:
        f.write(blob)
    for name, array, offset in (("W", w, 64), ("bias", bias, 64 + w.nbytes)):
        t = numpy_helper.from_array(array, name)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", os.path.basename(prefix) + ".bin"),
                           ("offset", str(offset)), ("length", str(array.nbytes))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        b.inits.append(t)
    table = f32(16, 8)
    const = b.node("Constant", [], value=numpy_helper.from_array(table, "table"))
    ramp = b.node("Reshape", [b.node("Cast", [b.node("Range", [b.const(np.int64(0)), b.const(np.int64(128)),
                                                                 b.const(np.int64(1))])],
                                     to=TensorProto.FLOAT),
                              b.const(np.array([16, 8], np.int64))])
    h = b.node("Add", [b.node("MatMul", [x, "W"]), "bias"])
    y = b.node("MatMul", [h, b.node("Add", [const, ramp])])
    b.output("y", y, (xv @ w + bias) @ (table + np.arange(128, dtype=np.float32).reshape(16, 8)))
    return b


KINDS = {
    "external": lambda: (external(sys.argv[2]), 17),
    "elementwise17": lambda: (elementwise(), 17),
    "shapes11": lambda: (shapes(11), 11),
    "shapes13": lambda: (shapes(13), 13),
    "shapes18": lambda: (shapes(18), 18),
    "reductions11": lambda: (reductions(11), 11),
    "reductions13": lambda: (reductions(13), 13),
    "reductions18": lambda: (reductions(18), 18),
    "nn17": lambda: (nn(17), 17),
    "nn20": lambda: (nn(20), 20),
}

if __name__ == "__main__":
    builder, opset = KINDS[sys.argv[1]]()
    builder.save(sys.argv[2], opset)
