"""Makes broken (and one sharded) copies of the own test models in OUTDIR for
errors-own.test: usage break_model.py OUTDIR (holding llama-test, bert-test,
distilbert-test)."""
import json
import os
import shutil
import struct
import sys

out = sys.argv[1]


def copy(src, dst, config_edit=None):
    shutil.copytree(os.path.join(out, src), os.path.join(out, dst))
    if config_edit:
        path = os.path.join(out, dst, "config.json")
        with open(path) as f:
            config = json.load(f)
        config_edit(config)
        with open(path, "w") as f:
            json.dump(config, f)
    return os.path.join(out, dst)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def write_raw(path, header, body):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


copy("llama-test", "rope-yarn",
     lambda c: c.update(rope_scaling={"rope_type": "yarn", "factor": 4.0}))
copy("distilbert-test", "no-heads", lambda c: c.pop("n_heads"))
copy("bert-test", "extra-layer", lambda c: c.update(num_hidden_layers=3))
copy("bert-test", "bad-act", lambda c: c.update(hidden_act="quick_gelu"))

d = copy("bert-test", "bad-config")
with open(os.path.join(d, "config.json"), "w") as f:
    f.write('{"model_type": "bert", ')

d = copy("bert-test", "no-weights")
os.remove(os.path.join(d, "model.safetensors"))

d = copy("llama-test", "header-past-eof")
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 1000000) + b"{}")

d = copy("llama-test", "header-not-json")
with open(os.path.join(d, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 8) + b"{'a': 1}")

d = copy("llama-test", "bad-dtype")
path = os.path.join(d, "model.safetensors")
header, body = read_safetensors(path)
header["model.norm.weight"]["dtype"] = "F8_E4M3"
write_raw(path, header, body)

# Sharded: two shards and an index; one copy misses its second shard.
for name in ("sharded", "missing-shard"):
    d = copy("llama-test", name)
    header, body = read_safetensors(os.path.join(d, "model.safetensors"))
    os.remove(os.path.join(d, "model.safetensors"))
    names = sorted(k for k in header if k != "__metadata__")
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, part in enumerate(shards):
        file = f"model-0000{i + 1}-of-00002.safetensors"
        sub, chunks, offset = {}, [], 0
        for k in part:
            b, e = header[k]["data_offsets"]
            sub[k] = dict(header[k], data_offsets=[offset, offset + e - b])
            chunks.append(body[b:e])
            offset += e - b
            weight_map[k] = file
        if name == "sharded" or i == 0:
            write_raw(os.path.join(d, file), sub, b"".join(chunks))
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
