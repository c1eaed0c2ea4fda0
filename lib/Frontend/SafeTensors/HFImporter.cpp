//===- HFImporter.cpp - Hugging Face folder -> tfx module -----------------===//
//
// Reads config.json and the safetensors header(s) — never the weight data —
// and dispatches on model_type to the family builders.
//
//===----------------------------------------------------------------------===//

#include "HFModelBuilder.h"

#include "tfx/Support/Json.h"
#include "tfx/Support/SafeTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// Names and shapes of every tensor of the weight file(s), and the path the
/// module's `tfx.weights` attribute should name.
struct WeightIndex {
  std::string path;
  llvm::StringMap<std::vector<int64_t>> shapes;
};

LogicalResult addShapes(llvm::StringRef file, Location loc, WeightIndex &index) {
  auto st = SafeTensorsFile::open(file);
  if (!st) {
    emitError(loc) << llvm::toString(st.takeError());
    return failure();
  }
  for (const auto &[name, info] : (*st)->tensors())
    index.shapes[name] = info.shape;
  return success();
}

FailureOr<WeightIndex> indexWeights(llvm::StringRef dir, Location loc) {
  WeightIndex index;
  llvm::SmallString<256> single(dir), sharded(dir);
  llvm::sys::path::append(single, "model.safetensors");
  llvm::sys::path::append(sharded, "model.safetensors.index.json");
  if (llvm::sys::fs::exists(single)) {
    index.path = std::string(single);
    if (failed(addShapes(single, loc, index)))
      return failure();
    return index;
  }
  if (!llvm::sys::fs::exists(sharded)) {
    emitError(loc) << "no model.safetensors or model.safetensors.index.json in "
                   << dir;
    return failure();
  }
  index.path = std::string(sharded);
  auto buffer = llvm::MemoryBuffer::getFile(sharded);
  if (!buffer) {
    emitError(loc) << "cannot read " << sharded;
    return failure();
  }
  auto root = parseJson((*buffer)->getBuffer());
  const llvm::json::Object *map =
      root && root->getAsObject() ? root->getAsObject()->getObject("weight_map")
                                  : nullptr;
  if (!map) {
    if (!root)
      llvm::consumeError(root.takeError());
    emitError(loc) << sharded << ": not valid JSON with a 'weight_map' object";
    return failure();
  }
  std::set<std::string> shards;
  for (const auto &[name, file] : *map)
    if (auto s = file.getAsString())
      shards.insert(s->str());
  for (const std::string &shard : shards) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, shard);
    if (failed(addShapes(path, loc, index)))
      return failure();
  }
  return index;
}

/// config.json text as a JSON object with a model_type.
FailureOr<llvm::json::Object> parseConfig(llvm::StringRef text, Location loc) {
  auto parsed = parseJson(text);
  if (!parsed) {
    emitError(loc) << "config.json is not valid JSON: "
                   << llvm::toString(parsed.takeError());
    return failure();
  }
  if (!parsed->getAsObject()) {
    emitError(loc) << "config.json is not a JSON object";
    return failure();
  }
  llvm::json::Object config = std::move(*parsed->getAsObject());
  if (!config.getString("model_type")) {
    emitError(loc) << "config.json: missing field 'model_type'";
    return failure();
  }
  return config;
}

using FamilyBuilder = OwningOpRef<ModuleOp> (*)(hf::ModelBuilder &, int64_t,
                                                int64_t, bool);

FamilyBuilder familyBuilder(llvm::StringRef type) {
  if (type == "bert")
    return hf::buildBert;
  if (type == "distilbert")
    return hf::buildDistilBert;
  if (type == "gpt2")
    return hf::buildGpt2;
  if (type == "llama" || type == "mistral" || type == "qwen2")
    return hf::buildLlamaLike;
  return nullptr;
}

/// Dispatches a parsed config to its family builder.
OwningOpRef<ModuleOp> buildModel(MLIRContext &ctx, llvm::json::Object config,
                                 llvm::StringRef configPath, WeightIndex index,
                                 const ImportOptions &options) {
  Location loc = FileLineColLoc::get(&ctx, configPath, 0, 0);
  std::string type = config.getString("model_type")->str();
  // Shapes come from the caller's inputs when known, else the defaults.
  int64_t batch = options.defaultBatch, seq = options.defaultSeq;
  auto ids = options.inputShapes.find("input_ids");
  if (ids != options.inputShapes.end()) {
    if (ids->second.size() != 2) {
      emitError(loc) << "input_ids must be 2-D [batch, seq]";
      return nullptr;
    }
    batch = ids->second[0];
    seq = ids->second[1];
  }
  auto maskShape = options.inputShapes.find("attention_mask");
  bool withMask = options.inputShapes.empty() ||
                  maskShape != options.inputShapes.end();
  if (maskShape != options.inputShapes.end() &&
      maskShape->second != std::vector<int64_t>{batch, seq}) {
    emitError(loc) << "attention_mask must have the shape of input_ids ["
                   << batch << "," << seq << "]";
    return nullptr;
  }
  if (batch <= 0 || seq <= 0) {
    emitError(loc) << "batch and sequence sizes must be positive";
    return nullptr;
  }
  // Learned position tables end at their size; rotary positions do not.
  bool learnedPositions =
      type == "bert" || type == "distilbert" || type == "gpt2";
  for (const char *key : {"max_position_embeddings", "n_positions"})
    if (auto maxPos = config.getInteger(key))
      if (learnedPositions && seq > *maxPos) {
        emitError(loc) << "sequence length " << seq << " exceeds " << key
                       << " = " << *maxPos;
        return nullptr;
      }

  if (options.keepLayers < 0) {
    emitError(loc) << "the number of layers to keep must be positive";
    return nullptr;
  }
  bool decoder = type == "gpt2" || type == "llama" || type == "mistral" ||
                 type == "qwen2";
  if (options.keepLayers && !decoder) {
    emitError(loc) << "keeping a subset of layers is supported for decoders "
                      "(gpt2, llama, mistral, qwen2), not '"
                   << type << "'";
    return nullptr;
  }
  auto build = familyBuilder(type);
  if (!build) {
    emitError(loc) << "config.json: unsupported model_type '" << type
                   << "' (supported: bert, distilbert, gpt2, llama, mistral, "
                      "qwen2)";
    return nullptr;
  }
  hf::ModelBuilder mb(ctx, configPath.str(), std::move(config), index.path,
                      std::move(index.shapes));
  mb.setKeepLayers(options.keepLayers);
  // Ops are located at their HF module ("transformer.h.0.attn"), which the
  // printed file location drops: errors raised while building (shape rules
  // that a config at odds with its weights breaks) name it in the message.
  SmallVector<Diagnostic> held;
  OwningOpRef<ModuleOp> module;
  {
    ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &diag) {
      held.push_back(std::move(diag));
      return success();
    });
    module = build(mb, batch, seq, withMask);
  }
  for (Diagnostic &diag : held) {
    InFlightDiagnostic out =
        ctx.getDiagEngine().emit(diag.getLocation(), diag.getSeverity());
    std::string message = diag.str();
    auto scope = dyn_cast<NameLoc>(diag.getLocation());
    if (scope && !llvm::StringRef(message).contains(scope.getName().getValue()))
      out << scope.getName().getValue() << ": ";
    out << message;
    for (Diagnostic &note : diag.getNotes())
      out.attachNote(note.getLocation()) << note.str();
  }
  return module;
}

} // namespace

OwningOpRef<ModuleOp> mlir::tfx::importHuggingFace(llvm::StringRef dir,
                                                   MLIRContext &ctx,
                                                   const ImportOptions &options) {
  ctx.loadDialect<TfxDialect, func::FuncDialect, arith::ArithDialect>();
  llvm::SmallString<256> absDir(dir);
  llvm::sys::fs::make_absolute(absDir);
  llvm::SmallString<256> configPath(absDir);
  llvm::sys::path::append(configPath, "config.json");
  Location loc = FileLineColLoc::get(&ctx, configPath, 0, 0);

  auto buffer = llvm::MemoryBuffer::getFile(configPath);
  if (!buffer) {
    emitError(loc) << "cannot read " << configPath << ": "
                   << buffer.getError().message();
    return nullptr;
  }
  FailureOr<llvm::json::Object> config = parseConfig((*buffer)->getBuffer(), loc);
  if (failed(config))
    return nullptr;
  FailureOr<WeightIndex> index = indexWeights(absDir, loc);
  if (failed(index))
    return nullptr;
  return buildModel(ctx, std::move(*config), configPath, std::move(*index),
                    options);
}

OwningOpRef<ModuleOp> mlir::tfx::importHuggingFaceConfig(
    llvm::StringRef configText, llvm::StringRef configPath,
    llvm::StringRef weightsPath,
    const llvm::StringMap<std::vector<int64_t>> &tensorShapes, MLIRContext &ctx,
    const ImportOptions &options) {
  ctx.loadDialect<TfxDialect, func::FuncDialect, arith::ArithDialect>();
  Location loc = FileLineColLoc::get(&ctx, configPath, 0, 0);
  FailureOr<llvm::json::Object> config = parseConfig(configText, loc);
  if (failed(config))
    return nullptr;
  WeightIndex index{weightsPath.str(), tensorShapes};
  return buildModel(ctx, std::move(*config), configPath, std::move(index),
                    options);
}
