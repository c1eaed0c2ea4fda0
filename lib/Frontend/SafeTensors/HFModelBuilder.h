//===- HFModelBuilder.h - shared pieces of the Hugging Face importers -----===//
//
// A ModelBuilder owns the module being built, the parsed config.json and the
// index of tensors in the weight file(s). Each family (HFEncoders.cpp,
// HFDecoders.cpp) writes its forward pass with it; every helper reports a
// problem as a diagnostic at a location naming the HF module path and
// returns failure, so the families read as straight-line code.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_FRONTEND_SAFETENSORS_HFMODELBUILDER_H
#define TFX_FRONTEND_SAFETENSORS_HFMODELBUILDER_H

#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::tfx::hf {

class ModelBuilder {
public:
  ModelBuilder(MLIRContext &ctx, std::string configPath, llvm::json::Object config,
               std::string weightsPath,
               llvm::StringMap<std::vector<int64_t>> tensorShapes);

  //===--- config.json ----------------------------------------------------===//
  /// A required integer field; emits "missing field" naming the file.
  FailureOr<int64_t> intField(llvm::StringRef key);
  std::optional<int64_t> optionalInt(llvm::StringRef key);
  FailureOr<double> floatField(llvm::StringRef key);
  std::optional<double> optionalFloat(llvm::StringRef key);
  std::optional<llvm::StringRef> optionalString(llvm::StringRef key);
  std::optional<bool> optionalBool(llvm::StringRef key);
  const llvm::json::Object &config() const { return configJson; }
  /// An error at config.json's location.
  InFlightDiagnostic configError();

  //===--- weights --------------------------------------------------------===//
  bool hasTensor(llvm::StringRef name) const { return shapes.count(name); }
  /// The first of `prefixes` for which `prefix + probe` names a tensor.
  std::optional<std::string> detectPrefix(llvm::ArrayRef<llvm::StringRef> prefixes,
                                          llvm::StringRef probe) const;
  /// `tfx.weight` of a tensor of the file; `transposed` reads 2-D data [in,out]
  /// as [out,in].
  FailureOr<Value> weight(llvm::StringRef name, bool transposed = false);
  /// The weight when present, a null Value otherwise.
  FailureOr<Value> optionalWeight(llvm::StringRef name, bool transposed = false);

  //===--- ops, located at the HF module path `scope` ---------------------===//
  Location loc(llvm::StringRef scope);
  FailureOr<Value> linear(Value x, llvm::StringRef scope, bool transposed = false,
                          bool requireBias = false);
  FailureOr<Value> layerNorm(Value x, llvm::StringRef scope, double eps);
  FailureOr<Value> rmsNorm(Value x, llvm::StringRef scope, double eps);
  FailureOr<Value> embedding(Value ids, llvm::StringRef tableName);
  FailureOr<Value> add(Value a, Value b, llvm::StringRef scope);
  FailureOr<Value> mul(Value a, Value b, llvm::StringRef scope);
  /// Activation by its config name (gelu, gelu_new, relu, silu, ...).
  FailureOr<Value> activation(Value x, llvm::StringRef name, llvm::StringRef scope);
  /// Slice of the last dimension [begin, begin+size).
  FailureOr<Value> sliceLast(Value x, int64_t begin, int64_t size,
                             llvm::StringRef scope);
  /// Constant [1, seq] tensor holding `0 .. seq-1` (or all zeros), located
  /// at `scope` (the HF buffer it stands for, e.g. `embeddings.position_ids`).
  Value positions(int64_t seq, llvm::StringRef scope, bool zeros = false);

  //===--- the function ---------------------------------------------------===//
  /// Creates `@main(input_ids, [attention_mask])` and positions the builder.
  void beginMain(int64_t batch, int64_t seq, bool withMask);
  Value inputIds() { return ids; }
  Value attentionMask() { return mask; }
  /// Returns `result` named `outputName` and finishes the module.
  OwningOpRef<ModuleOp> finish(Value result, llvm::StringRef outputName);

  /// Layers to build of a model that has `layers` (the keep-layers limit).
  int64_t layersToBuild(int64_t layers) const {
    return keepLayers > 0 && keepLayers < layers ? keepLayers : layers;
  }
  void setKeepLayers(int64_t n) { keepLayers = n; }

  OpBuilder &builder() { return b; }
  MLIRContext &context() { return ctx; }

private:
  MLIRContext &ctx;
  OpBuilder b;
  OwningOpRef<ModuleOp> module;
  func::FuncOp mainFunc;
  std::string configPath;
  llvm::json::Object configJson;
  std::string weightsPath;
  llvm::StringMap<std::vector<int64_t>> shapes;
  llvm::StringMap<Value> weightCache;
  Operation *lastWeight = nullptr;
  Value ids, mask;
  int64_t keepLayers = 0;
};

/// Family builders: return null after emitting a diagnostic.
OwningOpRef<ModuleOp> buildBert(ModelBuilder &mb, int64_t batch, int64_t seq,
                                bool withMask);
OwningOpRef<ModuleOp> buildDistilBert(ModelBuilder &mb, int64_t batch,
                                      int64_t seq, bool withMask);
OwningOpRef<ModuleOp> buildGpt2(ModelBuilder &mb, int64_t batch, int64_t seq,
                                bool withMask);
/// Llama, Mistral and Qwen2 share one decoder.
OwningOpRef<ModuleOp> buildLlamaLike(ModelBuilder &mb, int64_t batch,
                                     int64_t seq, bool withMask);

} // namespace mlir::tfx::hf

#endif // TFX_FRONTEND_SAFETENSORS_HFMODELBUILDER_H
