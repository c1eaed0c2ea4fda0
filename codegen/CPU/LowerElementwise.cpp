//===- LowerElementwise.cpp - elementwise tfx ops to linalg.generic -------===//

#include "Elementwise.h"
#include "LinalgBuilders.h"
#include "Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::tfx;

/// x^e for a constant splat exponent that has a cheaper exact form (the
/// decomposed norms of exporters square with Pow(x, 2)).
static std::optional<double> splatExponent(PowOp op) {
  DenseElementsAttr attr;
  if (!matchPattern(op.getRhs(), m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  double e = attr.getSplatValue<APFloat>().convertToDouble();
  if (e == 1.0 || e == 2.0 || e == 3.0 || e == 0.5)
    return e;
  return std::nullopt;
}

FailureOr<Value> mlir::tfx::lowerElementwiseOp(FuncLowering &fl, OpBuilder &b,
                                               Operation *op) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType.hasStaticShape())
    return op->emitError("CPU code generation needs static shapes");
  SmallVector<Value> inputs(op->getOperands());
  std::optional<double> exponent;
  if (auto pow = dyn_cast<PowOp>(op))
    if ((exponent = splatExponent(pow)))
      inputs.pop_back();
  bool failedBody = false;
  Value result = buildElementwise(
      b, op->getLoc(), resultType, inputs,
      [&](OpBuilder &nb, Location loc, ValueRange args) -> Value {
        if (exponent) {
          Value x = args[0];
          if (*exponent == 0.5)
            return math::SqrtOp::create(nb, loc, x);
          Value r = x;
          for (int k = 1; k < (int)*exponent; ++k)
            r = arith::MulFOp::create(nb, loc, r, x);
          return r;
        }
        FailureOr<Value> v = emitElementwise(nb, loc, op, args);
        if (failed(v)) {
          failedBody = true;
          return args.front();
        }
        return *v;
      });
  if (failedBody)
    return failure();
  return result;
}
