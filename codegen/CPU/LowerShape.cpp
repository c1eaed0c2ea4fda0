//===- LowerShape.cpp - data movement and reductions to linalg/tensor -----===//

#include "Elementwise.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

static RankedTensorType resultTypeOf(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}

static ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

/// A linalg.generic over `result`'s shape whose body reads freely (through
/// tensor.extract) with the loop indices in hand.
static Value buildIndexed(
    OpBuilder &b, Location loc, RankedTensorType result, ValueRange inputs,
    ArrayRef<AffineMap> inputMaps,
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  unsigned rank = result.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(b, loc, result.getShape(), result.getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{result}, inputs, ValueRange{init}, maps,
      parallelIterators(rank), [&](OpBuilder &nb, Location nloc, ValueRange args) {
        SmallVector<Value> ivs;
        for (unsigned d = 0; d < rank; ++d)
          ivs.push_back(linalg::IndexOp::create(nb, nloc, d));
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args.drop_back(), ivs));
      });
  return generic.getResult(0);
}

static int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

static FailureOr<Value> lowerConcat(OpBuilder &b, ConcatOp op) {
  Location loc = op.getLoc();
  RankedTensorType type = resultTypeOf(op);
  int64_t rank = type.getRank();
  int64_t axis = normalizeAxis(op.getAxisAttr().getInt(), rank);
  if (axis < 0 || axis >= rank)
    return op.emitError("concat axis out of range");
  Value result = emptyTensor(b, loc, type.getShape(), type.getElementType());
  int64_t offset = 0;
  for (Value in : op.getInputs()) {
    ArrayRef<int64_t> shape = shapeOf(in);
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes, strides(rank, b.getIndexAttr(1));
    for (int64_t d = 0; d < rank; ++d)
      sizes.push_back(b.getIndexAttr(shape[d]));
    offsets[axis] = b.getIndexAttr(offset);
    offset += shape[axis];
    if (shape[axis] == 0)
      continue;
    result = tensor::InsertSliceOp::create(b, loc, in, result, offsets, sizes, strides);
  }
  return result;
}

static FailureOr<Value> lowerGather(FuncLowering &fl, OpBuilder &b, GatherOp op) {
  Location loc = op.getLoc();
  Value data = op.getData(), indices = op.getIndices();
  ArrayRef<int64_t> dataShape = shapeOf(data), indexShape = shapeOf(indices);
  int64_t axis = normalizeAxis(op.getAxisAttr().getInt(), dataShape.size());
  if (axis < 0 || axis >= (int64_t)dataShape.size())
    return op.emitError("gather axis out of range");
  int64_t size = dataShape[axis], indexRank = indexShape.size();
  fl.addErrorFlag(b, loc, anyIndexOutOfRange(b, loc, indices, size, true));
  RankedTensorType type = resultTypeOf(op);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> indexExprs;
  for (int64_t d = 0; d < indexRank; ++d)
    indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
  AffineMap indexMap = AffineMap::get(type.getRank(), 0, indexExprs, ctx);
  return buildIndexed(
      b, loc, type, indices, indexMap,
      [&](OpBuilder &nb, Location nloc, ValueRange args, ValueRange ivs) -> Value {
        SmallVector<Value> at(ivs.take_front(axis));
        at.push_back(clampIndex(nb, nloc, args[0], size, true));
        for (Value iv : ivs.drop_front(axis + indexRank))
          at.push_back(iv);
        return tensor::ExtractOp::create(nb, nloc, data, at);
      });
}

static FailureOr<Value> lowerGatherElements(FuncLowering &fl, OpBuilder &b,
                                            GatherElementsOp op) {
  Location loc = op.getLoc();
  Value data = op.getData(), indices = op.getIndices();
  ArrayRef<int64_t> dataShape = shapeOf(data);
  int64_t axis = normalizeAxis(op.getAxisAttr().getInt(), dataShape.size());
  if (axis < 0 || axis >= (int64_t)dataShape.size())
    return op.emitError("gather_elements axis out of range");
  int64_t size = dataShape[axis];
  fl.addErrorFlag(b, loc, anyIndexOutOfRange(b, loc, indices, size, true));
  RankedTensorType type = resultTypeOf(op);
  AffineMap identity = AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
  return buildIndexed(
      b, loc, type, indices, identity,
      [&](OpBuilder &nb, Location nloc, ValueRange args, ValueRange ivs) -> Value {
        SmallVector<Value> at(ivs);
        at[axis] = clampIndex(nb, nloc, args[0], size, true);
        return tensor::ExtractOp::create(nb, nloc, data, at);
      });
}

static FailureOr<Value> lowerGatherNd(FuncLowering &fl, OpBuilder &b,
                                      GatherNdOp op) {
  Location loc = op.getLoc();
  Value data = op.getData(), indices = op.getIndices();
  ArrayRef<int64_t> dataShape = shapeOf(data), indexShape = shapeOf(indices);
  int64_t depth = indexShape.back(), batch = (int64_t)op.getBatchDims();
  int64_t tupleRank = indexShape.size() - 1;
  if (batch < 0 || batch + depth > (int64_t)dataShape.size())
    return op.emitError("gather_nd index depth does not fit the data");
  // One range check per addressed dimension, on the column of indices.
  for (int64_t j = 0; j < depth; ++j) {
    SmallVector<OpFoldResult> offsets(indexShape.size(), b.getIndexAttr(0)), sizes,
        strides(indexShape.size(), b.getIndexAttr(1));
    for (int64_t s : indexShape)
      sizes.push_back(b.getIndexAttr(s));
    offsets.back() = b.getIndexAttr(j);
    sizes.back() = b.getIndexAttr(1);
    Value column = tensor::ExtractSliceOp::create(b, loc, indices, offsets, sizes, strides);
    fl.addErrorFlag(b, loc,
                    anyIndexOutOfRange(b, loc, column, dataShape[batch + j], true));
  }
  RankedTensorType type = resultTypeOf(op);
  return buildIndexed(
      b, loc, type, {}, {},
      [&](OpBuilder &nb, Location nloc, ValueRange, ValueRange ivs) -> Value {
        SmallVector<Value> at(ivs.take_front(batch));
        SmallVector<Value> tuple(ivs.take_front(tupleRank));
        for (int64_t j = 0; j < depth; ++j) {
          tuple.push_back(arith::ConstantIndexOp::create(nb, nloc, j));
          Value index = tensor::ExtractOp::create(nb, nloc, indices, tuple);
          tuple.pop_back();
          at.push_back(clampIndex(nb, nloc, index, dataShape[batch + j], true));
        }
        for (Value iv : ivs.drop_front(tupleRank))
          at.push_back(iv);
        return tensor::ExtractOp::create(nb, nloc, data, at);
      });
}

static FailureOr<Value> lowerReduce(OpBuilder &b, ReduceOp op) {
  Location loc = op.getLoc();
  Value input = op.getInput();
  auto inType = cast<RankedTensorType>(input.getType());
  int64_t rank = inType.getRank();
  Type element = inType.getElementType();
  bool isFloat = isa<FloatType>(element);
  SmallVector<bool> reduced(rank, false);
  int64_t count = 1;
  for (int64_t a : op.getAxes()) {
    int64_t axis = normalizeAxis(a, rank);
    if (axis < 0 || axis >= rank || reduced[axis])
      return op.emitError("reduce axis out of range or repeated");
    reduced[axis] = true;
    count *= inType.getDimSize(axis);
  }
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < rank; ++d) {
    iterators.push_back(reduced[d] ? utils::IteratorType::reduction
                                   : utils::IteratorType::parallel);
    if (!reduced[d]) {
      outShape.push_back(inType.getDimSize(d));
      outExprs.push_back(getAffineDimExpr(d, ctx));
    }
  }
  ReduceKind kind = op.getKind();
  double init = 0.0;
  if (kind == ReduceKind::max)
    init = isFloat ? -INFINITY : (double)INT64_MIN;
  else if (kind == ReduceKind::min)
    init = isFloat ? INFINITY : (double)INT64_MAX;
  Value acc;
  if (!isFloat && (kind == ReduceKind::max || kind == ReduceKind::min)) {
    // The int64 extremes are not doubles: spell them as integer attributes.
    int64_t extreme = kind == ReduceKind::max
                          ? APInt::getSignedMinValue(element.getIntOrFloatBitWidth()).getSExtValue()
                          : APInt::getSignedMaxValue(element.getIntOrFloatBitWidth()).getSExtValue();
    Value empty = emptyTensor(b, loc, outShape, element);
    Value scalar = arith::ConstantOp::create(b, loc, IntegerAttr::get(element, extreme));
    acc = linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
  } else {
    acc = filledTensor(b, loc, outShape, element, init);
  }
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, outExprs, ctx)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, ValueRange{input}, ValueRange{acc}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value x = args[0], a = args[1], r;
        switch (kind) {
        case ReduceKind::sum:
        case ReduceKind::mean:
          r = isFloat ? (Value)arith::AddFOp::create(nb, nloc, a, x)
                      : (Value)arith::AddIOp::create(nb, nloc, a, x);
          break;
        case ReduceKind::max:
          r = isFloat ? (Value)arith::MaximumFOp::create(nb, nloc, a, x)
                      : (Value)arith::MaxSIOp::create(nb, nloc, a, x);
          break;
        case ReduceKind::min:
          r = isFloat ? (Value)arith::MinimumFOp::create(nb, nloc, a, x)
                      : (Value)arith::MinSIOp::create(nb, nloc, a, x);
          break;
        }
        linalg::YieldOp::create(nb, nloc, r);
      });
  Value result = generic.getResult(0);
  if (kind == ReduceKind::mean && count > 0) {
    auto type = cast<RankedTensorType>(result.getType());
    result = buildElementwise(
        b, loc, type, result, [&](OpBuilder &nb, Location nloc, ValueRange args) -> Value {
          Value n = constantOf(nb, nloc, element, (double)count);
          if (isFloat)
            return arith::DivFOp::create(nb, nloc, args[0], n);
          return arith::DivSIOp::create(nb, nloc, args[0], n);
        });
  }
  return reshapeTo(b, loc, result, resultTypeOf(op).getShape());
}

FailureOr<Value> mlir::tfx::lowerShapeOp(FuncLowering &fl, OpBuilder &b,
                                         Operation *op) {
  RankedTensorType type = resultTypeOf(op);
  if (!type.hasStaticShape())
    return op->emitError("CPU code generation needs static shapes");
  Location loc = op->getLoc();
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](ReshapeOp o) -> FailureOr<Value> {
        return reshapeTo(b, loc, o.getInput(), type.getShape());
      })
      .Case([&](ExpandOp o) -> FailureOr<Value> {
        return buildElementwise(
            b, loc, type, o.getInput(),
            [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      })
      .Case([&](TransposeOp o) -> FailureOr<Value> {
        Value init = emptyTensor(b, loc, type.getShape(), type.getElementType());
        return linalg::TransposeOp::create(b, loc, o.getInput(), init, o.getPerm())
            .getResult()[0];
      })
      .Case([&](SliceOp o) -> FailureOr<Value> {
        return (Value)tensor::ExtractSliceOp::create(
            b, loc, type, o.getInput(), ValueRange{}, ValueRange{}, ValueRange{},
            o.getOffsets(), o.getSizes(), o.getStrides());
      })
      .Case([&](ConcatOp o) { return lowerConcat(b, o); })
      .Case([&](GatherOp o) { return lowerGather(fl, b, o); })
      .Case([&](GatherElementsOp o) { return lowerGatherElements(fl, b, o); })
      .Case([&](GatherNdOp o) { return lowerGatherNd(fl, b, o); })
      .Case([&](ReduceOp o) { return lowerReduce(b, o); })
      .Default([&](Operation *) -> FailureOr<Value> {
        return op->emitError("no CPU lowering for this op");
      });
}
