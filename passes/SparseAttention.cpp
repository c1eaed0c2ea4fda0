//===- SparseAttention.cpp - sliding-window and block-sparse attention ----===//
//
// Only attributes change: the mask rules live in tfx.attention (window,
// global_tokens, block_size/block_layout), so that every backend computes
// the same function and the CPU kernel can skip the key blocks no query of
// a block sees. A local-strided layout is computed per attention from its
// kv_len; a literal layout must fit every attention it is applied to.
//
//===----------------------------------------------------------------------===//

#include "CompressionReport.h"
#include "tfx/Passes/Passes.h"

#include "llvm/Support/Format.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXSPARSEATTENTION
#include "passes/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

namespace {

/// Rows of 0/1 separated by '/', all `blocks` long, `blocks` of them.
FailureOr<SmallVector<bool>> parseLayout(StringRef text, int64_t blocks) {
  SmallVector<StringRef> rows;
  text.split(rows, '/');
  if ((int64_t)rows.size() != blocks)
    return failure();
  SmallVector<bool> layout;
  for (StringRef row : rows) {
    if ((int64_t)row.size() != blocks)
      return failure();
    for (char c : row) {
      if (c != '0' && c != '1')
        return failure();
      layout.push_back(c == '1');
    }
  }
  return layout;
}

SmallVector<bool> localStridedLayout(int64_t blocks, int64_t local, int64_t stride) {
  SmallVector<bool> layout(blocks * blocks);
  for (int64_t i = 0; i < blocks; ++i)
    for (int64_t j = 0; j < blocks; ++j)
      layout[i * blocks + j] =
          std::abs(i - j) < local || (stride > 0 && j % stride == stride - 1);
  return layout;
}

struct SparseAttentionPass
    : mlir::tfx::impl::TfxSparseAttentionBase<SparseAttentionPass> {
  using TfxSparseAttentionBase::TfxSparseAttentionBase;

  void runOnOperation() override {
    if (failed(run()))
      signalPassFailure();
  }

  LogicalResult run() {
    ModuleOp module = getOperation();
    StringRef name = getArgument();
    if (window < 0 || globalTokens < 0 || block < 0 || local < 1 || stride < 0)
      return module.emitError(name)
             << ": window, global, block and stride must be >= 0, local >= 1";
    if ((window > 0) == (block > 0))
      return module.emitError(name) << ": give one of window=W or block=B";
    bool literal = pattern != "local-strided";
    auto run =
        CompressionRun::begin(module, name, calibration, calibrationBatches, false);
    if (failed(run))
      return failure();

    int64_t index = 0;
    WalkResult walk = module.walk([&](AttentionOp op) -> WalkResult {
      int64_t n = index++;
      if (op.isLinear() || op.getBlockSize() > 0 || (block > 0 && op.getWindow() > 0)) {
        run->log() << "attention " << n << ": left as it is (already "
                   << (op.isLinear() ? "linear" : "sparse") << ")\n";
        return WalkResult::advance();
      }
      int64_t sq = cast<RankedTensorType>(op.getQ().getType()).getDimSize(1);
      int64_t sk = cast<RankedTensorType>(op.getK().getType()).getDimSize(1);
      double total = (double)sq * sk;
      double before = visibleAttentionPairs(op);
      if (window > 0) {
        int64_t kept = op.getWindow() > 0 ? std::min<int64_t>(op.getWindow(), window)
                                          : (int64_t)window;
        op.setWindow(kept);
        run->log() << "attention " << n << ": window " << kept;
      } else {
        if (sq > sk) {
          op.emitError(name) << ": a block layout needs q_len <= kv_len";
          return WalkResult::interrupt();
        }
        int64_t blocks = (sk + block - 1) / block;
        SmallVector<bool> layout;
        if (literal) {
          auto parsed = parseLayout(pattern, blocks);
          if (failed(parsed)) {
            op.emitError(name) << ": pattern '" << pattern << "' is not " << blocks
                               << " rows of " << blocks
                               << " 0/1 separated by '/' (kv_len " << sk << ", block "
                               << (int64_t)block << ")";
            return WalkResult::interrupt();
          }
          layout = std::move(*parsed);
        } else {
          layout = localStridedLayout(blocks, local, stride);
        }
        op.setBlockSize(block);
        op.setBlockLayoutAttr(DenseBoolArrayAttr::get(op.getContext(), layout));
        run->log() << "attention " << n << ": blocks of " << block << ", "
                   << (literal ? "given" : "local-strided") << " layout "
                   << llvm::count(layout, true) << "/" << layout.size() << " blocks";
      }
      if (globalTokens > 0) {
        op.setGlobalTokens(globalTokens);
        llvm::errs() << ", " << globalTokens << " global tokens";
      }
      double after = visibleAttentionPairs(op);
      llvm::errs() << llvm::format(": visible pairs %.1f%% -> %.1f%%\n",
                                   100.0 * before / total, 100.0 * after / total);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    return success(succeeded(run->finish(module)));
  }
};

} // namespace
