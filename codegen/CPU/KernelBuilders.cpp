//===- KernelBuilders.cpp - helpers of the tensor-level CPU kernels -------===//

#include "KernelBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::tfx;

Value mlir::tfx::indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value mlir::tfx::readVector(OpBuilder &b, Location loc, Value source,
                            ValueRange indices, int64_t lanes) {
  Type element = cast<ShapedType>(source.getType()).getElementType();
  auto type = VectorType::get({lanes}, element);
  Value padding = arith::ConstantOp::create(b, loc, b.getZeroAttr(element));
  SmallVector<bool> inBounds = {true};
  return vector::TransferReadOp::create(b, loc, type, source, indices, padding,
                                        ArrayRef<bool>(inBounds));
}

Value mlir::tfx::writeVector(OpBuilder &b, Location loc, Value vector, Value dest,
                             ValueRange indices) {
  SmallVector<bool> inBounds = {true};
  auto op = vector::TransferWriteOp::create(b, loc, vector, dest, indices,
                                            ArrayRef<bool>(inBounds));
  return op->getNumResults() ? op->getResult(0) : Value();
}

Value mlir::tfx::splat(OpBuilder &b, Location loc, Value scalar, int64_t lanes) {
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, scalar.getType()), scalar);
}

Value mlir::tfx::buildParallel(
    OpBuilder &b, Location loc, int64_t count, Value init,
    llvm::function_ref<ParallelTile(OpBuilder &, Location, Value, Value)> body) {
  SmallVector<OpFoldResult> upper = {b.getIndexAttr(count)};
  auto forall = scf::ForallOp::create(b, loc, upper, ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value shared = forall.getRegionIterArgs()[0];
  ParallelTile tile = body(b, loc, forall.getInductionVars()[0], shared);
  b.setInsertionPointToEnd(&forall.getTerminator().getRegion().front());
  SmallVector<OpFoldResult> strides(tile.offsets.size(), b.getIndexAttr(1));
  tensor::ParallelInsertSliceOp::create(b, loc, tile.tile, shared, tile.offsets,
                                        tile.sizes, strides);
  return forall.getResult(0);
}
