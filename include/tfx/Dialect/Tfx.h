//===- Tfx.h - the tfx dialect ----------------------------------*- C++ -*-===//
#ifndef TFX_DIALECT_TFX_H
#define TFX_DIALECT_TFX_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/TfxDialect.h.inc"
#include "dialects/TfxEnums.h.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/TfxAttrs.h.inc"
#define GET_OP_CLASSES
#include "dialects/TfxOps.h.inc"

namespace mlir::tfx {

/// Module attribute naming the file that `tfx.weight` ops read.
inline constexpr llvm::StringLiteral kWeightsAttr = "tfx.weights";
/// Argument/result attribute keeping the source model's tensor name.
inline constexpr llvm::StringLiteral kNameAttr = "tfx.name";

/// Numpy broadcasting of two shapes; failure when incompatible.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b);

/// Builds an op whose result type is inferred, reporting a shape error at
/// `loc` instead of aborting (the generated inferring builders abort).
template <typename OpT, typename... Args>
FailureOr<OpT> createInferred(OpBuilder &b, Location loc, Args &&...args) {
  OperationState state(loc, OpT::getOperationName());
  OpT::build(b, state, TypeRange{UnrankedTensorType::get(b.getF32Type())},
             std::forward<Args>(args)...);
  Operation *op = b.create(state);
  SmallVector<Type> types;
  if (failed(OpT::inferReturnTypes(b.getContext(), loc, op->getOperands(),
                                   op->getRawDictionaryAttrs(),
                                   op->getPropertiesStorage(), op->getRegions(),
                                   types))) {
    op->erase();
    return failure();
  }
  op->getResult(0).setType(types.front());
  return cast<OpT>(op);
}

} // namespace mlir::tfx

#endif // TFX_DIALECT_TFX_H
