//===- Tfx.cpp - tfx dialect, verifiers and folders -----------------------===//

#include "tfx/Dialect/Tfx.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

#include "dialects/TfxDialect.cpp.inc"
#include "dialects/TfxEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "dialects/TfxAttrs.cpp.inc"
#define GET_OP_CLASSES
#include "dialects/TfxOps.cpp.inc"

void TfxDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/TfxAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/TfxOps.cpp.inc"
      >();
}

Operation *TfxDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty weight name");
  if (getTransposed() && getType().getRank() != 2)
    return emitOpError("'transposed' applies to 2-D weights only, got rank ")
           << getType().getRank();
  return success();
}

LogicalResult QuantizeActivationsOp::verify() {
  TypeAttr attr = getQuantTypeAttr();
  if (!attr)
    return success();
  auto type = dyn_cast<quant::UniformQuantizedType>(attr.getValue());
  if (!type)
    return emitOpError("quant_type must be a !quant.uniform per-tensor type, got ")
           << attr.getValue();
  if (!type.getExpressedType().isF32())
    return emitOpError("quant_type must express f32, got ") << type.getExpressedType();
  if (type.getStorageTypeIntegralWidth() != getBits())
    return emitOpError("quant_type stores ")
           << type.getStorageTypeIntegralWidth() << "-bit integers but bits is " << getBits();
  double scale = type.getScale();
  if (!(std::isfinite(scale) && scale > 0))
    return emitOpError("quant_type scale must be a positive finite number");
  if (type.getZeroPoint() < type.getStorageTypeMin() ||
      type.getZeroPoint() > type.getStorageTypeMax())
    return emitOpError("quant_type zero point ")
           << type.getZeroPoint() << " is outside its storage range ["
           << type.getStorageTypeMin() << ", " << type.getStorageTypeMax() << "]";
  return success();
}

LogicalResult SparseCsrOp::verify() {
  auto values = getValues().getType(), columns = getColumns().getType();
  auto offsets = getRowOffsets().getType();
  auto result = cast<RankedTensorType>(getType());
  if (values.getRank() != 1 || columns.getRank() != 1 || offsets.getRank() != 1)
    return emitOpError("values, columns and row_offsets must be 1-D");
  if (result.getRank() != 2 || !result.hasStaticShape())
    return emitOpError("result must be a static 2-D [out, in] tensor, got ") << result;
  if (result.getElementType() != values.getElementType())
    return emitOpError("result element type ")
           << result.getElementType() << " differs from the values' "
           << values.getElementType();
  if (values.getShape() != columns.getShape())
    return emitOpError("values and columns differ in length (")
           << values.getDimSize(0) << " vs " << columns.getDimSize(0) << ")";
  int64_t out = result.getDimSize(0), in = result.getDimSize(1);
  if (offsets.getDimSize(0) != out + 1)
    return emitOpError("row_offsets must have out + 1 = ")
           << out + 1 << " elements, got " << offsets.getDimSize(0);
  if (!ShapedType::isDynamic(values.getDimSize(0)) && values.getDimSize(0) > out * in)
    return emitOpError("holds ") << values.getDimSize(0) << " nonzeros, more than "
                                 << out << "x" << in;
  if (columns.getElementType().isInteger(16) && in > 32768)
    return emitOpError("i16 columns address at most 32768 input channels, got ") << in;
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getType().getRank(), axis = getAxis();
  if (axis < -rank || axis >= rank)
    return emitOpError("axis ") << axis << " out of range for rank " << rank;
  return success();
}

LogicalResult IsNanOp::verify() {
  if (getInput().getType().getShape() != getType().getShape())
    return emitOpError("result shape must equal the input shape");
  return success();
}

LogicalResult CastOp::verify() {
  if (getInput().getType().getShape() !=
      cast<RankedTensorType>(getType()).getShape())
    return emitOpError("changes the shape: ")
           << getInput().getType() << " -> " << getType();
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = getInput().getType();
  auto out = cast<RankedTensorType>(getType());
  if (!in.hasStaticShape() || !out.hasStaticShape())
    return emitOpError("needs static shapes");
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("element count changes from ")
           << in.getNumElements() << " to " << out.getNumElements();
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  return success();
}

LogicalResult ExpandOp::verify() {
  auto in = getInput().getType();
  auto out = cast<RankedTensorType>(getType());
  auto shape = broadcastShapes(in.getShape(), out.getShape());
  if (failed(shape) || ArrayRef<int64_t>(*shape) != out.getShape())
    return emitOpError("cannot broadcast ") << in << " to " << out;
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type");
  return success();
}

//===----------------------------------------------------------------------===//
// Folders and canonicalizers
//===----------------------------------------------------------------------===//

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(cast<ShapedType>(getType()));
  return {};
}

namespace {
/// reshape(reshape(x)) -> reshape(x)
struct FoldReshapeChain : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getInput());
    return success();
  }
};

/// transpose(transpose(x)) -> transpose(x) with composed permutation, and a
/// 2-D transpose of a weight reads the weight transposed instead.
struct FoldTransposeChain : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (auto w = op.getInput().getDefiningOp<WeightOp>()) {
      if (op.getPerm().size() != 2)
        return failure();
      rewriter.replaceOpWithNewOp<WeightOp>(op, op.getType(), w.getName(),
                                            !w.getTransposed());
      return success();
    }
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                             perm);
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<FoldReshapeChain>(context);
}

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<FoldTransposeChain>(context);
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto splat = dyn_cast_if_present<SplatElementsAttr>(adaptor.getInput()))
    return SplatElementsAttr::get(cast<ShapedType>(getType()),
                                  splat.getSplatValue<Attribute>());
  return {};
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getOffsets(), [](int64_t o) { return o == 0; }) &&
      llvm::all_of(getStrides(), [](int64_t s) { return s == 1; }))
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

bool AttentionOp::seesKey(int64_t pos, int64_t key) {
  if (getCausal() && key > pos)
    return false;
  int64_t globalTokens = (int64_t)getGlobalTokens();
  if (key < globalTokens || pos < globalTokens)
    return true;
  if (int64_t window = (int64_t)getWindow();
      window > 0 && (key <= pos - window || key >= pos + window))
    return false;
  if (int64_t block = (int64_t)getBlockSize(); block > 0) {
    int64_t kvLen = cast<RankedTensorType>(getK().getType()).getDimSize(1);
    int64_t blocks = (kvLen + block - 1) / block;
    return getBlockLayout()[(pos / block) * blocks + key / block];
  }
  return true;
}
