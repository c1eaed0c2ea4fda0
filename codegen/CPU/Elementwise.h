//===- Elementwise.h - scalar and vector math of tfx ops --------*- C++ -*-===//
//
// The per-element math of tfx's elementwise ops, written once for scalars
// (inside linalg.generic bodies) and vectors (inside the kernels' epilogues):
// every helper builds arith/math ops on whatever shape its operands have.
// The formulas follow the reference interpreter (lib/Interpreter).
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CODEGEN_CPU_ELEMENTWISE_H
#define TFX_CODEGEN_CPU_ELEMENTWISE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir::tfx {

/// A constant `value` of `type`: a float or integer type, or a vector of one.
Value constantOf(OpBuilder &b, Location loc, Type type, double value);

/// `type` with its element type replaced by `element` (vectors stay vectors).
Type withElementType(Type type, Type element);

/// True for tfx ops computed element by element with numpy broadcasting
/// (unary, binary, comparisons, where, cast, gelu).
bool isElementwiseOp(Operation *op);

/// The math of elementwise `op` on `args`, one per operand, already
/// broadcast: scalars or equally shaped vectors of the operands' element
/// types. Fails (with a diagnostic on `op`) for unsupported element types.
FailureOr<Value> emitElementwise(OpBuilder &b, Location loc, Operation *op,
                                 ValueRange args);

Value emitGelu(OpBuilder &b, Location loc, Value x, bool tanhApprox);
/// `from` converted to element type `to` with the interpreter's rules.
Value emitCast(OpBuilder &b, Location loc, Value from, Type to);

} // namespace mlir::tfx

#endif // TFX_CODEGEN_CPU_ELEMENTWISE_H
