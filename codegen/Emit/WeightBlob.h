//===- WeightBlob.h - the bytes of a module's weight blob -------*- C++ -*-===//
#ifndef TFX_CODEGEN_EMIT_WEIGHTBLOB_H
#define TFX_CODEGEN_EMIT_WEIGHTBLOB_H

#include "../CPU/WeightPlan.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace mlir::tfx {

/// Reads every slot of `plan` (tensors of the module's `tfx.weights` file,
/// or constants) and packs it at its offset in its layout and element type.
llvm::Expected<std::vector<uint8_t>> packWeights(ModuleOp module,
                                                 const WeightPlan &plan);

/// artifact.h's checksum: FNV-1a 64 over little-endian 8-byte words, the
/// last partial word zero-padded.
uint64_t weightsChecksum(llvm::ArrayRef<uint8_t> bytes);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_EMIT_WEIGHTBLOB_H
