//===- DecoderSteps.cpp - a decoder's generation entries ------------------===//
//
// The CPU pipeline compiles static shapes, so each step shape of generation
// is its own import of the model: prefill takes a chunk of one sequence,
// decode one token of each of a batch of sequences, verify the tokens a
// draft model proposed. Each import becomes a cached step (tfx-kv-cache) and
// moves into one module; the weights are shared by name, so the artifact
// packs them once.
//
//===----------------------------------------------------------------------===//

#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::tfx;

namespace {
struct StepShape {
  std::string name;
  int64_t batch, tokens;
};

/// The shape of the function argument named `name`, or an empty list.
ArrayRef<int64_t> argShape(func::FuncOp f, StringRef name) {
  for (unsigned i = 0; i < f.getNumArguments(); ++i)
    if (auto attr = f.getArgAttrOfType<StringAttr>(i, kNameAttr);
        attr && attr.getValue() == name)
      return cast<RankedTensorType>(f.getArgument(i).getType()).getShape();
  return {};
}
} // namespace

OwningOpRef<ModuleOp> mlir::tfx::importDecoderSteps(
    llvm::StringRef path, MLIRContext &ctx, const ImportOptions &options,
    const DecoderStepOptions &steps) {
  Location loc = FileLineColLoc::get(&ctx, path, 0, 0);
  if (!llvm::sys::fs::is_directory(path) &&
      llvm::sys::path::extension(path) != ".onnx") {
    emitError(loc) << "generation entries are built from a Hugging Face folder "
                      "or an ONNX file (the step shapes need a fresh import)";
    return nullptr;
  }
  if (steps.decodeBatches.empty() || steps.prefillTokens <= 0 ||
      steps.verifyTokens < 0 ||
      llvm::any_of(steps.decodeBatches, [](int64_t b) { return b <= 0; })) {
    emitError(loc) << "decode batch sizes and prefill tokens must be positive";
    return nullptr;
  }
  std::vector<int64_t> batches = steps.decodeBatches;
  std::sort(batches.begin(), batches.end());
  batches.erase(std::unique(batches.begin(), batches.end()), batches.end());

  // An ONNX graph imported at one token has its position computations
  // folded to those of position 0 (RoPE at 0 is the identity and vanishes)
  // and its masks degenerate, so the step no longer knows positions: ONNX
  // decode entries take two tokens, the second one padding.
  bool isOnnx = llvm::sys::path::extension(path) == ".onnx";
  int64_t decodeTokens = isOnnx ? 2 : 1;
  // The largest decode batch first: its pool size is every entry's.
  std::vector<StepShape> shapes = {{"decode", batches.back(), decodeTokens}};
  for (size_t i = 0; i + 1 < batches.size(); ++i)
    shapes.push_back(
        {"decode_b" + std::to_string(batches[i]), batches[i], decodeTokens});
  shapes.push_back({"prefill", 1, std::max(steps.prefillTokens, decodeTokens)});
  if (steps.verifyTokens)
    shapes.push_back({"verify", 1, std::max(steps.verifyTokens, decodeTokens)});

  OwningOpRef<ModuleOp> combined;
  int64_t context = steps.context, blocks = steps.blocks;
  for (const StepShape &shape : shapes) {
    ImportOptions stepOptions = options;
    std::vector<int64_t> ids = {shape.batch, shape.tokens};
    stepOptions.inputShapes["input_ids"] = ids;
    // ONNX decoders take a padding mask; the step drops it again.
    if (isOnnx)
      stepOptions.inputShapes["attention_mask"] = ids;
    OwningOpRef<ModuleOp> module = importModel(path, ctx, stepOptions);
    if (!module)
      return nullptr;
    PassManager pm(&ctx, ModuleOp::getOperationName());
    if (!steps.passes.empty()) {
      std::string message;
      llvm::raw_string_ostream os(message);
      if (failed(parsePassPipeline(steps.passes, pm, os))) {
        emitError(loc) << "bad pass pipeline '" << steps.passes << "': " << message;
        return nullptr;
      }
    }
    TfxKvCacheOptions kv;
    kv.blockSize = steps.blockSize;
    kv.context = context;
    kv.blocks = blocks;
    pm.addPass(createTfxKvCache(kv));
    if (failed(pm.run(*module)))
      return nullptr;
    auto funcs = llvm::to_vector(module->getOps<func::FuncOp>());
    if (funcs.size() != 1) {
      emitError(loc) << "expected one function in the imported decoder, got "
                     << funcs.size();
      return nullptr;
    }
    func::FuncOp f = funcs.front();
    if (!combined) {
      // Fix the pool for the remaining entries.
      ArrayRef<int64_t> table = argShape(f, "block_table");
      ArrayRef<int64_t> cache = argShape(f, "k_cache");
      context = table[1] * steps.blockSize;
      blocks = cache[0];
      combined = ModuleOp::create(loc);
      combined->getOperation()->setAttrs(module->getOperation()->getAttrs());
    } else if (module->getOperation()->getAttr(kWeightsAttr) !=
               combined->getOperation()->getAttr(kWeightsAttr)) {
      emitError(loc) << "the step imports name different weight files";
      return nullptr;
    }
    f.setSymName(shape.name);
    f->moveBefore(combined->getBody(), combined->getBody()->end());
  }
  return combined;
}
