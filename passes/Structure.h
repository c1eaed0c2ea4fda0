//===- Structure.h - find the transformer layers of a function --*- C++ -*-===//
//
// Structured compression rewrites whole heads, FFN neurons and layers, so it
// needs to know which ops form them. The analysis here recognises, in the
// tfx form every frontend produces:
//
//  - attention blocks: `tfx.attention` whose q, k and v each come from a
//    `tfx.linear` (or a last-axis `tfx.slice` of a fused QKV linear),
//    optionally through `tfx.rope`, and whose result feeds one `tfx.linear`
//    (the output projection);
//  - FFN blocks: a `tfx.linear` (down projection) whose input is computed
//    elementwise (GELU, ReLU, SiLU, gating products) from one or two
//    linears of the same width (up, and gate for GLU variants);
//  - layers: an attention block and the FFN block after it, with the
//    residual stream value entering and leaving the pair (pre-LN: adds;
//    post-LN: adds followed by layer norms).
//
// Anything that does not match (values with other users, broadcasting,
// other ops in between) is left out, so passes only touch what they fully
// understand.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_STRUCTURE_H
#define TFX_PASSES_STRUCTURE_H

#include "tfx/Dialect/Tfx.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <vector>

namespace mlir::tfx {

/// Where q, k or v comes from: output channels [offset, offset + width) of
/// `linear`, through `slice` when the linear is fused, then `rope`.
struct Projection {
  LinearOp linear;
  SliceOp slice;
  RopeOp rope;
  int64_t offset = 0, width = 0;
};

struct AttentionBlock {
  AttentionOp attention;
  Projection q, k, v;
  LinearOp out;
  int64_t heads = 0, kvHeads = 0, headDim = 0;
};

struct FfnBlock {
  LinearOp down;
  /// The linears whose outputs meet elementwise: [up] or [gate, up].
  SmallVector<LinearOp, 2> ups;
  /// The elementwise ops between them and `down`, in block order.
  SmallVector<Operation *, 4> chain;
  int64_t width = 0;
};

struct TransformerLayer {
  AttentionBlock attention;
  std::optional<FfnBlock> ffn;
  /// The residual stream entering and leaving the layer (null when the
  /// residual structure was not recognised).
  Value input, output;
};

/// The layers of `func` in program order.
std::vector<TransformerLayer> analyzeLayers(func::FuncOp func);

/// Every FFN block of `func` in program order (also those outside layers).
std::vector<FfnBlock> findFfnBlocks(func::FuncOp func);

/// The attention block around `op`, when it matches.
std::optional<AttentionBlock> matchAttentionBlock(AttentionOp op);

/// The role of every `tfx.linear` of `func` in a recognised block:
/// "attention" (q/k/v/output projections) or "ffn"; others are absent.
llvm::DenseMap<Operation *, std::string> linearRoles(func::FuncOp func);

/// The roles a compression pass's `targets` option names ("ffn",
/// "attention", "other" for linears in no recognised block; default ffn and
/// attention). Unknown names fail with a diagnostic on `module` naming
/// `pass`.
FailureOr<SmallVector<std::string>> targetRoles(ModuleOp module, llvm::StringRef pass,
                                                llvm::ArrayRef<std::string> targets);

/// Recomputes the result type of `op` from its operands and attributes
/// (inferred types, or the operand type of same-shape unary ops).
LogicalResult refreshResultType(Operation *op);

/// Erases weights, constants and tfx ops without uses, repeatedly.
void eraseDeadOps(func::FuncOp func);

} // namespace mlir::tfx

#endif // TFX_PASSES_STRUCTURE_H
