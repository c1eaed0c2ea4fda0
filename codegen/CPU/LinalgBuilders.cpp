//===- LinalgBuilders.cpp - small builders for linalg on tensors ----------===//

#include "LinalgBuilders.h"
#include "Elementwise.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tfx;

Value mlir::tfx::emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                             Type element) {
  return tensor::EmptyOp::create(b, loc, shape, element);
}

Value mlir::tfx::filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                              Type element, double value) {
  Value init = emptyTensor(b, loc, shape, element);
  Value scalar = constantOf(b, loc, element, value);
  return linalg::FillOp::create(b, loc, scalar, init).getResult(0);
}

SmallVector<utils::IteratorType> mlir::tfx::parallelIterators(unsigned count) {
  return SmallVector<utils::IteratorType>(count, utils::IteratorType::parallel);
}

AffineMap mlir::tfx::broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> inShape,
                                  ArrayRef<int64_t> outShape) {
  unsigned rank = outShape.size(), offset = rank - inShape.size();
  SmallVector<AffineExpr> exprs;
  for (unsigned d = 0; d < inShape.size(); ++d) {
    bool broadcast = inShape[d] == 1 && outShape[offset + d] != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(offset + d, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value mlir::tfx::buildElementwise(OpBuilder &b, Location loc,
                                  RankedTensorType result, ValueRange inputs,
                                  BodyFn body) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = result.getShape();
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(
        ctx, cast<RankedTensorType>(in.getType()).getShape(), shape));
  maps.push_back(AffineMap::getMultiDimIdentityMap(shape.size(), ctx));
  Value init = emptyTensor(b, loc, shape, result.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{result}, inputs, ValueRange{init}, maps,
      parallelIterators(shape.size()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, v);
      });
  return generic.getResult(0);
}

Value mlir::tfx::reshapeTo(OpBuilder &b, Location loc, Value tensor,
                           ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getShape() == shape)
    return tensor;
  auto target = RankedTensorType::get(shape, type.getElementType());
  auto allInOne = [](int64_t rank) {
    SmallVector<ReassociationIndices> r;
    if (rank > 0) {
      ReassociationIndices all;
      for (int64_t d = 0; d < rank; ++d)
        all.push_back(d);
      r.push_back(all);
    }
    return r;
  };
  // Through a 1-D (or, for single elements, 0-D) tensor: always valid for
  // contiguous data, and bufferizes to views.
  int64_t count = type.getNumElements();
  bool viaScalar = type.getRank() == 0 || shape.empty();
  Value flat = tensor;
  if (viaScalar) {
    if (type.getRank() > 0)
      flat = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({}, type.getElementType()), tensor,
          SmallVector<ReassociationIndices>{});
    if (shape.empty())
      return flat;
    return tensor::ExpandShapeOp::create(b, loc, target, flat,
                                         SmallVector<ReassociationIndices>{});
  }
  if (type.getRank() != 1)
    flat = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({count}, type.getElementType()), tensor,
        allInOne(type.getRank()));
  if (shape.size() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(b, loc, target, flat,
                                       allInOne(shape.size()));
}

Value mlir::tfx::reduceLastDim(OpBuilder &b, Location loc, Value input,
                               double init, BodyFn combine) {
  auto type = cast<RankedTensorType>(input.getType());
  ArrayRef<int64_t> shape = type.getShape();
  unsigned rank = shape.size();
  MLIRContext *ctx = b.getContext();
  Value acc = filledTensor(b, loc, shape.drop_back(), type.getElementType(), init);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, ctx),
      AffineMap::getMultiDimIdentityMap(rank, ctx).dropResult(rank - 1)};
  SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{input}, ValueRange{acc}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, combine(nb, nloc, args));
      });
  return generic.getResult(0);
}

Value mlir::tfx::anyIndexOutOfRange(OpBuilder &b, Location loc, Value indices,
                                    int64_t size, bool allowNegative) {
  auto type = cast<RankedTensorType>(indices.getType());
  unsigned rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  Value init = filledTensor(b, loc, {}, b.getI1Type(), 0);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, {}, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{indices}, ValueRange{init},
      maps, iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Type t = args[0].getType();
        Value low = constantOf(nb, nloc, t, allowNegative ? -size : 0);
        Value high = constantOf(nb, nloc, t, size);
        Value below = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::slt,
                                            args[0], low);
        Value above = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sge,
                                            args[0], high);
        Value bad = arith::OrIOp::create(nb, nloc, below, above);
        linalg::YieldOp::create(nb, nloc,
                                (Value)arith::OrIOp::create(nb, nloc, args[1], bad));
      });
  return tensor::ExtractOp::create(b, loc, generic.getResult(0), ValueRange{});
}

Value mlir::tfx::clampIndex(OpBuilder &b, Location loc, Value index,
                            int64_t size, bool allowNegative) {
  Value v = index;
  if (v.getType().getIntOrFloatBitWidth() == 1)
    v = arith::ExtUIOp::create(b, loc, b.getI64Type(), v);
  else if (v.getType().getIntOrFloatBitWidth() < 64)
    v = arith::ExtSIOp::create(b, loc, b.getI64Type(), v);
  Type t = v.getType();
  if (allowNegative) {
    Value negative = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v,
                                           constantOf(b, loc, t, 0));
    v = arith::SelectOp::create(
        b, loc, negative,
        arith::AddIOp::create(b, loc, v, constantOf(b, loc, t, size)), v);
  }
  v = arith::MaxSIOp::create(b, loc, v, constantOf(b, loc, t, 0));
  v = arith::MinSIOp::create(b, loc, v, constantOf(b, loc, t, size - 1));
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}
