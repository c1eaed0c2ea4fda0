//===- WeightStore.cpp - resolve tfx.weight ops to data -------------------===//

#include "tfx/Support/WeightStore.h"
#include "tfx/Support/Json.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <mutex>

using namespace llvm;
using namespace mlir::tfx;

namespace {

/// A Hugging Face `model.safetensors.index.json`: a weight_map from tensor
/// name to the shard file that holds it.
class ShardedWeights : public WeightSource {
public:
  static Expected<std::unique_ptr<WeightSource>> open(StringRef path) {
    auto buffer = MemoryBuffer::getFile(path);
    if (!buffer)
      return createStringError(buffer.getError(),
                               "cannot open " + path + ": " +
                                   buffer.getError().message());
    Expected<json::Value> root = parseJson((*buffer)->getBuffer());
    if (!root)
      return createStringError(inconvertibleErrorCode(),
                               path + ": not valid JSON: " +
                                   toString(root.takeError()));
    const json::Object *obj = root->getAsObject();
    const json::Object *map = obj ? obj->getObject("weight_map") : nullptr;
    if (!map)
      return createStringError(inconvertibleErrorCode(),
                               path + ": missing object 'weight_map'");
    auto source = std::make_unique<ShardedWeights>();
    StringRef dir = sys::path::parent_path(path);
    for (const auto &[name, file] : *map) {
      std::optional<StringRef> shard = file.getAsString();
      if (!shard || shard->contains("/") || shard->contains(".."))
        return createStringError(inconvertibleErrorCode(),
                                 path + ": bad shard name for '" + name.str() +
                                     "'");
      SmallString<256> full(dir);
      sys::path::append(full, *shard);
      source->shardOf[name.str()] = std::string(full);
    }
    return std::unique_ptr<WeightSource>(std::move(source));
  }

  Expected<Tensor> load(StringRef name) override {
    auto it = shardOf.find(name);
    if (it == shardOf.end())
      return createStringError(inconvertibleErrorCode(),
                               "no tensor named '" + name +
                                   "' in the shard index");
    Expected<WeightSource *> shard = openWeightSource(it->second);
    if (!shard)
      return shard.takeError();
    return (*shard)->load(name);
  }

private:
  StringMap<std::string> shardOf;
};

struct Registry {
  std::mutex mutex;
  StringMap<std::unique_ptr<WeightSource>> sources;
};

Registry &registry() {
  static Registry r;
  return r;
}

} // namespace

Expected<WeightSource *> mlir::tfx::openWeightSource(StringRef path) {
  SmallString<256> absolute(path);
  if (std::error_code ec = sys::fs::make_absolute(absolute))
    return createStringError(ec, "cannot resolve " + path);
  Registry &r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.sources.find(absolute);
    if (it != r.sources.end())
      return it->second.get();
  }
  Expected<std::unique_ptr<WeightSource>> source =
      createStringError(inconvertibleErrorCode(), "");
  consumeError(source.takeError());
  if (StringRef(absolute).ends_with(".safetensors"))
    source = openSafeTensorsWeights(absolute);
  else if (StringRef(absolute).ends_with(".index.json"))
    source = ShardedWeights::open(absolute);
  else if (StringRef(absolute).ends_with(".onnx"))
    source = openONNXWeights(absolute);
  else
    return createStringError(inconvertibleErrorCode(),
                             "weights file '" + path +
                                 "' is neither .safetensors, "
                                 ".safetensors.index.json nor .onnx");
  if (!source)
    return source.takeError();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto &slot = r.sources[absolute];
  if (!slot)
    slot = std::move(*source);
  return slot.get();
}

Expected<Tensor> mlir::tfx::loadWeight(StringRef path, StringRef name,
                                       bool transposed) {
  Expected<WeightSource *> source = openWeightSource(path);
  if (!source)
    return source.takeError();
  Expected<Tensor> tensor = (*source)->load(name);
  if (!tensor)
    return tensor.takeError();
  if (!transposed)
    return tensor;
  if (tensor->rank() != 2)
    return createStringError(inconvertibleErrorCode(),
                             "weight '" + name + "' of " + path +
                                 " is read transposed but has shape " +
                                 tensor->shapeString());
  Tensor t = std::move(*tensor);
  int64_t rows = t.shape[0], cols = t.shape[1];
  Tensor out = t.isFloat() ? Tensor::floats({cols, rows}, 0.0f, t.dtype)
                           : Tensor::ints({cols, rows}, 0, t.dtype);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      if (t.isFloat())
        out.f[c * rows + r] = t.f[r * cols + c];
      else
        out.i[c * rows + r] = t.i[r * cols + c];
    }
  return out;
}
