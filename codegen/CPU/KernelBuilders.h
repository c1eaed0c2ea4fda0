//===- KernelBuilders.h - helpers of the tensor-level CPU kernels -*- C++ -*-===//
//
// The kernels are written on tensors with scf loops and vector ops, so that
// one-shot bufferization places their outputs and the epilogue math can be
// shared with the linalg lowering (Elementwise.h works on vectors too).
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CODEGEN_CPU_KERNELBUILDERS_H
#define TFX_CODEGEN_CPU_KERNELBUILDERS_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::tfx {

Value indexConstant(OpBuilder &b, Location loc, int64_t value);

/// vector<lanes x element> read from `source` at `indices` (in bounds).
Value readVector(OpBuilder &b, Location loc, Value source, ValueRange indices,
                 int64_t lanes);
/// Writes `vector` into tensor `dest` at `indices`; returns the new tensor.
Value writeVector(OpBuilder &b, Location loc, Value vector, Value dest,
                  ValueRange indices);
/// `scalar` broadcast to vector<lanes x ...>.
Value splat(OpBuilder &b, Location loc, Value scalar, int64_t lanes);

/// An scf.forall over [0, count) whose shared output is `init`; `body`
/// gets the index and the shared output and returns (tile, offsets, sizes)
/// to insert in parallel. Returns the forall's result.
struct ParallelTile {
  Value tile;
  SmallVector<OpFoldResult> offsets, sizes;
};
Value buildParallel(OpBuilder &b, Location loc, int64_t count, Value init,
                    llvm::function_ref<ParallelTile(OpBuilder &, Location, Value,
                                                    Value)>
                        body);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_CPU_KERNELBUILDERS_H
