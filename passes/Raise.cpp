//===- Raise.cpp - raise decomposed math into tfx ops ---------------------===//
//
// The driver: every raising pattern in one greedy rewrite. Patterns live in
// RaiseLinear.cpp (linear, embedding), RaiseActivations.cpp (GELU, SiLU),
// RaiseNorms.cpp, RaiseRope.cpp and RaiseAttention.cpp (with MaskProbe.cpp
// classifying masks); the pipeline runs canonicalize + cse afterwards to
// drop what became dead.
//
//===----------------------------------------------------------------------===//

#include "RaiseUtils.h"
#include "tfx/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXRAISE
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {
struct TfxRaisePass : mlir::tfx::impl::TfxRaiseBase<TfxRaisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    raise::populateRaiseActivationPatterns(patterns);
    raise::populateRaiseNormPatterns(patterns);
    raise::populateRaiseRopePatterns(patterns);
    raise::populateRaiseAttentionPatterns(patterns);
    raise::populateRaiseLinearPatterns(patterns);
    ReshapeOp::getCanonicalizationPatterns(patterns, &getContext());
    TransposeOp::getCanonicalizationPatterns(patterns, &getContext());
    // Not converging within the driver's iteration limit leaves valid IR,
    // raised in part; that is no reason to fail a compile (the canonicalizer
    // takes the same view).
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
  }
};
} // namespace
