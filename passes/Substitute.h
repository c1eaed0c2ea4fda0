//===- Substitute.h - what-if runs of one changed linear --------*- C++ -*-===//
//
// Sensitivity searches ask how the model's outputs move when one linear (or
// a set of them) computes with a compressed weight, without rewriting the
// IR for every question: an interpreter observer adds the difference to
// each listed linear's float result.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_SUBSTITUTE_H
#define TFX_PASSES_SUBSTITUTE_H

#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/Quantize.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::tfx {

/// What a linear computes under a choice: x W^T + b becomes
/// x (W + delta)^T + b, or, with quantized activations, xq Wq^T + b, xq the
/// input rounded as tfx.quantize_activations rounds it.
struct LinearSubstitute {
  const Tensor *delta = nullptr;
  /// W8A8: the dequantized weight Wq and the float W.
  const Tensor *quantized = nullptr, *weight = nullptr;
  /// W8A8 static: the input's range; dynamic (per row) when null.
  const ActivationQuant *fixed = nullptr;
};

/// An observer that applies each listed linear's substitute to its result.
/// The tensors it points to must outlive the runs.
OpObserver substituteLinears(llvm::DenseMap<Operation *, LinearSubstitute> choices);

} // namespace mlir::tfx

#endif // TFX_PASSES_SUBSTITUTE_H
