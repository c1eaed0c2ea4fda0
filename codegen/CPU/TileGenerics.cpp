//===- TileGenerics.cpp - linalg ops of entries onto the thread pool ------===//
//
// Ops that the kernels do not cover (gathers, transposes, elementwise chains
// a GEMM could not absorb) still run on the thread pool: the outermost
// parallel dimension is cut into about 64 chunks of an scf.forall, whose
// bodies become loops (and LLVM's vectorizer takes their innermost
// dimension). Small ops stay sequential: a dispatch costs microseconds.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPUTILEGENERICS
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

static constexpr int64_t kTargetChunks = 64;

/// The tile sizes that cut the outermost parallel loop into about
/// kTargetChunks pieces, or nothing when the op is too small or has none.
static std::optional<SmallVector<OpFoldResult>>
chooseTiles(OpBuilder &b, linalg::LinalgOp op, int64_t minWork) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t work = 1;
  for (int64_t r : ranges) {
    if (ShapedType::isDynamic(r))
      return std::nullopt;
    work *= r;
  }
  if (work < minWork)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [d, range] : llvm::enumerate(ranges)) {
    if (iterators[d] != utils::IteratorType::parallel || range < 2)
      continue;
    int64_t tile = llvm::divideCeil(range, std::min(range, kTargetChunks));
    SmallVector<OpFoldResult> sizes(ranges.size(), b.getIndexAttr(0));
    sizes[d] = b.getIndexAttr(tile);
    return sizes;
  }
  return std::nullopt;
}

namespace {
struct TileGenericsPass
    : mlir::tfx::impl::TfxCpuTileGenericsBase<TileGenericsPass> {
  using TfxCpuTileGenericsBase::TfxCpuTileGenericsBase;
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      if (!f->hasAttr(kEntryAttr))
        continue;
      // Only the entry's top level: kernels are parallel already.
      SmallVector<linalg::LinalgOp> ops;
      for (Operation &op : f.front())
        if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
            linalgOp && linalgOp.hasPureTensorSemantics() &&
            !isa<linalg::FillOp>(op))
          ops.push_back(linalgOp);
      for (linalg::LinalgOp op : ops) {
        rewriter.setInsertionPoint(op);
        std::optional<SmallVector<OpFoldResult>> tiles =
            chooseTiles(rewriter, op, minWork);
        if (!tiles)
          continue;
        scf::SCFTilingOptions options;
        options.setTileSizes(*tiles);
        options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
        FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
        if (failed(tiled))
          continue; // stays sequential
        rewriter.replaceOp(op, tiled->replacements);
      }
    }
  }
};
} // namespace
