//===- RaiseUtils.h - matching helpers for the raising patterns -*- C++ -*-===//
#ifndef TFX_PASSES_RAISEUTILS_H
#define TFX_PASSES_RAISEUTILS_H

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Tensor.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::tfx::raise {

/// The value of a constant operand: an `arith.constant` or a `tfx.weight`
/// (read from the module's weight file).
std::optional<Tensor> constantValue(Value v);

/// The value of `v` when it is computed from constants only: a constant, or
/// a small subgraph of tfx ops over constants (e.g. cos of an exported angle
/// table), evaluated with the reference interpreter. Gives up past `maxOps`
/// ops or at a runtime value.
std::optional<Tensor> foldedValue(Value v, unsigned maxOps = 32);

/// The single value of a constant with one element (any shape of size 1).
std::optional<double> scalarValue(Value v);

/// True when `v` is a constant whose every element is within `tol` of `x`.
bool isScalar(Value v, double x, double tol = 1e-6);

/// A weight or an `arith.constant`.
bool isConstantLike(Value v);

/// The operand of the binary `op` that is not `known`.
Value otherOperand(Operation *op, Value known);

/// The only user of `v`, or null when it has none or several.
Operation *singleUser(Value v);

/// If `v` is head-split, `transpose(reshape(x, [B,S,H,D]), perm)` with perm
/// [0,2,1,3] (heads, seq, dim) or [0,2,3,1] (heads, dim, seq), returns x
/// (rank 3, [B,S,H*D]), H and whether the last two axes are swapped.
struct HeadSplit {
  Value base;
  int64_t heads = 0;
  int64_t headDim = 0;
  bool keyTransposed = false;
  int64_t repeat = 1; ///< kv-head repetition (grouped-query attention)
};
std::optional<HeadSplit> matchHeadSplit(Value v);

/// Rebuilds the [B,H,S,D] view of a [B,S,H*D] tensor.
Value buildHeadSplit(PatternRewriter &rewriter, Location loc, Value base,
                     int64_t heads);

/// Fits the RoPE base theta to cos/sin tables (each [S,D], [1,S,D],
/// [1,1,S,D] or [B,1,S,D]) for positions 0..seq-1 and `dim` rotated
/// features (layout half), and returns it only when every entry matches
/// what `tfx.rope` computes to within `tol`.
std::optional<double> fitRopeTheta(const Tensor &cosTable, const Tensor &sinTable,
                                   int64_t seq, int64_t dim, double tol = 1e-6);

void populateRaiseLinearPatterns(RewritePatternSet &patterns);
void populateRaiseActivationPatterns(RewritePatternSet &patterns);
void populateRaiseNormPatterns(RewritePatternSet &patterns);
void populateRaiseRopePatterns(RewritePatternSet &patterns);
void populateRaiseAttentionPatterns(RewritePatternSet &patterns);

} // namespace mlir::tfx::raise

#endif // TFX_PASSES_RAISEUTILS_H
