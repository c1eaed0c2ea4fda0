#!/usr/bin/env python3
"""Broken inputs for the bad-input suite (test/BadInput/*.test).

usage: make_bad.py KIND OUT [SOURCE]

Every KIND writes OUT (a file, or a folder for hf-* kinds) from SOURCE (a good
model folder, .onnx or .so) or from nothing. Cuts are made at the format's
own section boundaries, located by parsing the good file.
"""
import json
import os
import shutil
import struct
import sys

# --- safetensors --------------------------------------------------------------


def st_read(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    return data, length


def st_bytes(header, data=b"", length=None):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def safetensors(kind, src):
    """src: a good .safetensors file; returns the broken bytes."""
    data, length = st_read(src)
    one = {"x": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    cuts = {
        "st-empty": lambda: b"",
        "st-in-length": lambda: data[:5],                      # inside the 8-byte length
        "st-in-header": lambda: data[:8 + length // 2],        # inside the JSON header
        "st-at-data": lambda: data[:8 + length],               # header complete, no data
        "st-data-short": lambda: data[:-1],                    # last tensor one byte short
        "st-huge-length": lambda: struct.pack("<Q", 1 << 63) + data[8:],
        "st-not-object": lambda: st_bytes([1, 2, 3]),
        "st-deep": lambda: struct.pack("<Q", 1000000) + b"[" * 1000000,
        "st-huge-shape": lambda: st_bytes(
            {"x": {"dtype": "F32", "shape": [1 << 31, 1 << 31, 1 << 31], "data_offsets": [0, 16]}},
            bytes(16)),
        "st-huge-offsets": lambda: st_bytes(
            {"x": {"dtype": "F32", "shape": [2, 2], "data_offsets": [1 << 62, (1 << 62) + 16]}},
            bytes(16)),
        "st-overlap": lambda: st_bytes(
            {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
             "b": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}}, bytes(24)),
        "st-size-mismatch": lambda: st_bytes(
            {"x": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}, bytes(16)),
        "st-dtype": lambda: st_bytes(
            {"x": {"dtype": "I16", "shape": [2, 2], "data_offsets": [0, 8]}}, bytes(8)),
        "st-negative-dim": lambda: st_bytes(
            {"x": {"dtype": "F32", "shape": [-2, 2], "data_offsets": [0, 16]}}, bytes(16)),
        "st-good-small": lambda: st_bytes(one, bytes(16)),
    }
    return cuts[kind]()


# --- ONNX ---------------------------------------------------------------------


def onnx_model(opset=17, inits=None):
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.full((16, 8), 0.5, np.float32), "W")
    b = numpy_helper.from_array(np.ones((8,), np.float32), "b")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
                               helper.make_node("Add", ["h", "b"], ["y"], name="add")],
                              "g", [x], [y], inits if inits is not None else [w, b])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def onnx_bytes(kind):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    model = onnx_model()
    data = model.SerializeToString()
    graph = model.graph.SerializeToString()
    at_graph = data.index(graph)
    raw = model.graph.initializer[0].raw_data
    at_raw = data.index(raw)
    if kind == "onnx-good":
        return data
    if kind == "onnx-empty":
        return b""
    if kind == "onnx-in-graph":
        return data[:at_graph + len(graph) // 2]
    if kind == "onnx-at-opset":  # the graph complete, the opset_import that follows cut off
        return data[:at_graph + len(graph)]
    if kind == "onnx-in-raw":
        return data[:at_raw + len(raw) // 2]
    if kind == "onnx-short-raw":  # valid protobuf, 4 bytes missing from the weight
        w = numpy_helper.from_array(np.full((16, 8), 0.5, np.float32), "W")
        w.raw_data = w.raw_data[:-4]
        b = numpy_helper.from_array(np.ones((8,), np.float32), "b")
        return onnx_model(inits=[w, b]).SerializeToString()
    if kind == "onnx-opset22":
        return onnx_model(opset=22).SerializeToString()
    if kind == "onnx-string-input":
        s = helper.make_tensor_value_info("s", TensorProto.STRING, [2])
        t = helper.make_tensor_value_info("t", TensorProto.STRING, [2])
        g = helper.make_graph([helper.make_node("Identity", ["s"], ["t"], name="id")], "g", [s], [t])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    if kind == "onnx-if":
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        branch = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "branch", [],
                                   [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2])])
        node = helper.make_node("If", ["c"], ["y"], name="choose", then_branch=branch,
                                else_branch=branch)
        g = helper.make_graph([node], "g", [x, c], [y])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    if kind == "onnx-huge-init":
        big = TensorProto()
        big.name, big.data_type = "W", TensorProto.FLOAT
        big.dims.extend([1 << 40, 1 << 40])
        big.raw_data = bytes(16)
        b = numpy_helper.from_array(np.ones((8,), np.float32), "b")
        return onnx_model(inits=[big, b]).SerializeToString()
    if kind == "onnx-huge-fill":
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 16])
        shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "shape")
        g = helper.make_graph([helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill"),
                               helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                              "g", [x], [y], [shape])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    if kind == "onnx-escape":  # external data that points out of the model's folder
        w = numpy_helper.from_array(np.full((4,), 0.5, np.float32), "b")
        w.ClearField("raw_data")
        w.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "16")):
            entry = w.external_data.add()
            entry.key, entry.value = key, value
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
        g = helper.make_graph([helper.make_node("Add", ["x", "b"], ["y"], name="add")], "g", [x], [y], [w])
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    raise SystemExit("unknown ONNX kind " + kind)


# --- ELF shared objects -------------------------------------------------------


def elf(kind, src):
    data = bytearray(open(src, "rb").read())
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    if kind == "so-in-phdrs":  # the ELF header complete, the program headers cut
        return bytes(data[:phoff + 20])
    if kind == "so-half":
        return bytes(data[:len(data) // 2])
    if kind == "so-32bit":
        data[4] = 1  # EI_CLASS = ELFCLASS32
        return bytes(data)
    if kind == "so-aarch64":
        struct.pack_into("<H", data, 18, 183)  # e_machine = EM_AARCH64
        return bytes(data)
    raise SystemExit("unknown ELF kind " + kind)


# --- Hugging Face folders -----------------------------------------------------


def hf(kind, src, out):
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(src, "model.safetensors"), out)
    config = json.load(open(os.path.join(src, "config.json")))
    text = None
    if kind == "hf-deep":
        text = '{"model_type":"gpt2","x":' + "[" * 1000000
    elif kind == "hf-array":
        text = "[1, 2]"
    elif kind == "hf-no-type":
        del config["model_type"]
    elif kind == "hf-many-layers":
        config["n_layer"] = 1000000000000
    elif kind == "hf-zero-heads":
        config["n_head"] = 0
    elif kind == "hf-string-width":
        config["n_embd"] = "wide"
    elif kind == "hf-wrong-width":  # weights are 64 wide
        config["n_embd"] = 96
    elif kind == "hf-shard-deep":
        os.remove(os.path.join(out, "model.safetensors"))
        with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
            f.write('{"weight_map":' + "{" * 100000)
    else:
        raise SystemExit("unknown HF kind " + kind)
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write(text if text is not None else json.dumps(config))


def main():
    kind, out = sys.argv[1], sys.argv[2]
    src = sys.argv[3] if len(sys.argv) > 3 else None
    if kind.startswith("hf-"):
        hf(kind, src, out)
        return
    if kind.startswith("st-"):
        data = safetensors(kind, src)
    elif kind.startswith("onnx-"):
        data = onnx_bytes(kind)
    elif kind.startswith("so-"):
        data = elf(kind, src)
    else:
        raise SystemExit("unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
