//===- LinalgBuilders.h - small builders for linalg on tensors --*- C++ -*-===//
#ifndef TFX_CODEGEN_CPU_LINALGBUILDERS_H
#define TFX_CODEGEN_CPU_LINALGBUILDERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir::tfx {

using BodyFn = llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type element);
/// A tensor of `shape` filled with `value` (linalg.fill).
Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Type element, double value);

/// The map from the loops of `outShape` to an operand of `inShape` under
/// numpy broadcasting (trailing dims aligned; size-1 dims read index 0).
AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> inShape,
                       ArrayRef<int64_t> outShape);

/// linalg.generic computing `result` element by element; `inputs` are
/// broadcast to its shape; `body` gets their scalars.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType result,
                       ValueRange inputs, BodyFn body);

/// Any static reshape, as collapse_shape/expand_shape (views, no copies).
Value reshapeTo(OpBuilder &b, Location loc, Value tensor,
                ArrayRef<int64_t> shape);

/// Reduces the last dimension of `input` ([..., D] -> [...]) with
/// `combine(element, accumulator)` starting from `init`; `map` transforms
/// each element first (may be null).
Value reduceLastDim(OpBuilder &b, Location loc, Value input, double init,
                    BodyFn combine);

SmallVector<utils::IteratorType> parallelIterators(unsigned count);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_CPU_LINALGBUILDERS_H

namespace mlir::tfx {
/// i1: whether any element of the integer tensor `indices` lies outside
/// [-size, size) (`allowNegative`) or [0, size).
Value anyIndexOutOfRange(OpBuilder &b, Location loc, Value indices, int64_t size,
                         bool allowNegative);
/// `index` (any integer type) as an `index` in [0, size): negative values
/// count from the end when `allowNegative`; out-of-range values are clamped
/// so that reads stay in bounds (the range check reports them).
Value clampIndex(OpBuilder &b, Location loc, Value index, int64_t size,
                 bool allowNegative);
} // namespace mlir::tfx
