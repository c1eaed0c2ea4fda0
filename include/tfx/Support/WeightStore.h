//===- WeightStore.h - resolve tfx.weight ops to data -----------*- C++ -*-===//
//
// A module's `tfx.weights` attribute names a file (a .safetensors file or an
// .onnx file whose initializers hold the weights). The store opens each file
// once per process and hands out tensors by name.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_WEIGHTSTORE_H
#define TFX_SUPPORT_WEIGHTSTORE_H

#include "tfx/Support/Tensor.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace mlir::tfx {

class WeightSource {
public:
  virtual ~WeightSource() = default;
  /// The named tensor as stored (f16/bf16 widened to f32).
  virtual llvm::Expected<Tensor> load(llvm::StringRef name) = 0;
};

/// Readers, one per format (lib/Support/SafeTensors.cpp, ONNXWeights.cpp).
llvm::Expected<std::unique_ptr<WeightSource>>
openSafeTensorsWeights(llvm::StringRef path);
/// Initializers (raw_data, typed fields or external data) of an ONNX model.
llvm::Expected<std::unique_ptr<WeightSource>> openONNXWeights(llvm::StringRef path);

/// Opens (or returns the already opened) weight source for `path`, choosing
/// the reader by extension.
llvm::Expected<WeightSource *> openWeightSource(llvm::StringRef path);

/// Loads `name` from `path`, transposing 2-D data when `transposed` is set.
llvm::Expected<Tensor> loadWeight(llvm::StringRef path, llvm::StringRef name,
                                  bool transposed);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_WEIGHTSTORE_H
