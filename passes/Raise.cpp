//===- Raise.cpp - raise decomposed math into tfx ops ---------------------===//

#include "tfx/Passes/Passes.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXRAISE
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {
struct TfxRaisePass : mlir::tfx::impl::TfxRaiseBase<TfxRaisePass> {
  void runOnOperation() override {}
};
} // namespace
