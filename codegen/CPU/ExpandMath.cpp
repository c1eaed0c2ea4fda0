//===- ExpandMath.cpp - math ops to polynomial approximations -------------===//

#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPUEXPANDMATH
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;

namespace {
struct ExpandMathPass : mlir::tfx::impl::TfxCpuExpandMathBase<ExpandMathPass> {
  using TfxCpuExpandMathBase::TfxCpuExpandMathBase;
  void runOnOperation() override {
    // First the ops that expand into others (pow into exp/log, ...), then
    // the approximations of what remains.
    RewritePatternSet expansions(&getContext());
    math::populateExpansionPatterns(expansions);
    if (failed(applyPatternsGreedily(getOperation(), std::move(expansions))))
      return signalPassFailure();
    RewritePatternSet approximations(&getContext());
    populateMathPolynomialApproximationPatterns(approximations);
    if (failed(applyPatternsGreedily(getOperation(), std::move(approximations))))
      return signalPassFailure();
  }
};
} // namespace
