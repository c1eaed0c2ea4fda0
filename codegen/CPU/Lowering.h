//===- Lowering.h - shared state of tfx-lower-to-linalg ---------*- C++ -*-===//
//
// The op lowerings (Lower*.cpp) see one entry function at a time through
// FuncLowering: its ABI arguments, the module's weight plan, the error
// status it returns, and the options of the pass.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_CODEGEN_CPU_LOWERING_H
#define TFX_CODEGEN_CPU_LOWERING_H

#include "WeightPlan.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Quantize.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::tfx {

/// Function attribute of a lowered entry: {name, inputs, outputs}, each
/// tensor a {name, type} dictionary, for the descriptor and header.
inline constexpr llvm::StringLiteral kEntryAttr = "tfx.entry";
/// Function attribute: bytes of scratch memory the entry needs.
inline constexpr llvm::StringLiteral kScratchBytesAttr = "tfx.scratch_bytes";
/// Number of leading ABI arguments before the inputs: env, weights, scratch.
inline constexpr unsigned kNumAbiArgs = 3;

/// The pointer fields of artifact.h's tfx_exec_env, in order.
enum class EnvField : int32_t {
  ParallelFor, Pool, Scratch, GpuLaunch, GpuRead, GpuFlag, Gpu, Count
};
/// Loads field `field` of the tfx_exec_env that `env` (!llvm.ptr) points to.
Value loadEnvField(OpBuilder &b, Location loc, Value env, EnvField field);

struct LoweringOptions {
  bool kernels = false;
  int64_t panel = 16;
  int64_t vectorWidth = 16;
  /// AVX-512 VNNI (vpdpbusd) for int8 GEMMs.
  bool vnni = false;
  /// The GPU layout: linear weights as one [K][N] panel of all N channels.
  bool gpu = false;
};

/// Where a weight-like value comes from.
struct WeightRef {
  Attribute source; ///< StringAttr (weight file tensor) or ElementsAttr
  bool transposed = false;
  RankedTensorType type;
};

class FuncLowering {
public:
  FuncLowering(func::FuncOp func, WeightPlan &plan, const LoweringOptions &options)
      : func(func), plan(plan), options(options) {}

  func::FuncOp func;
  WeightPlan &plan;
  const LoweringOptions &options;

  Value env() { return func.getArgument(0); }
  Value weights() { return func.getArgument(1); }
  Value scratch() { return func.getArgument(2); }

  /// The weight behind `value` when it is a tfx.weight or a constant that
  /// belongs in the blob (large and not a splat).
  std::optional<WeightRef> weightSource(Value value);
  /// `ref` packed in `layout` (panels of `panel` columns, the option's
  /// when 0), as a tensor viewing the blob.
  Value weightTensor(Location loc, const WeightRef &ref, WeightLayout layout,
                     int64_t panel = 0);

  /// Makes the entry return a nonzero status when `flag` (i1) is true.
  void addErrorFlag(OpBuilder &b, Location loc, Value flag);

  /// Ops a kernel absorbed (and erased) ahead of the lowering loop.
  llvm::DenseSet<Operation *> erased;

private:
  llvm::DenseMap<unsigned, Value> views;
};

/// Lowers one tfx op of an entry function; the result replaces its only
/// result. Failures carry a diagnostic.
FailureOr<Value> lowerTfxOp(FuncLowering &fl, OpBuilder &b, Operation *op);

// The families, one file each.
FailureOr<Value> lowerElementwiseOp(FuncLowering &fl, OpBuilder &b, Operation *op);
FailureOr<Value> lowerShapeOp(FuncLowering &fl, OpBuilder &b, Operation *op);
FailureOr<Value> lowerNNOp(FuncLowering &fl, OpBuilder &b, Operation *op);
FailureOr<Value> lowerAttention(FuncLowering &fl, OpBuilder &b, AttentionOp op);

/// The kernels (with `kernels`): return failure() without a diagnostic
/// when the op does not fit, so that the linalg lowering takes it.
FailureOr<Value> lowerLinearKernel(FuncLowering &fl, OpBuilder &b, Operation *op);
FailureOr<Value> lowerAttentionKernel(FuncLowering &fl, OpBuilder &b,
                                      AttentionOp op);
FailureOr<Value> lowerNormKernel(FuncLowering &fl, OpBuilder &b, Operation *op);
/// A tfx.linear whose weight is tfx.sparse_csr or tfx.sparse_2to4: work per
/// nonzero (SparseLinear.cpp).
FailureOr<Value> lowerSparseLinearKernel(FuncLowering &fl, OpBuilder &b,
                                         LinearOp op);
/// The static scale and zero point of a tfx.quantize_activations, or
/// nullopt for the dynamic (per-row) form.
std::optional<ActivationQuant> staticActivationQuant(QuantizeActivationsOp op);
/// What vpdpbusd's unsigned operand is offset by: the stored integer plus
/// 128 for signed storage (dynamic and symmetric), as is for unsigned; the
/// int32 sums then carry (this + zero point) x the weight column sum.
inline int64_t unsignedShift(const std::optional<ActivationQuant> &fixed) {
  return !fixed || fixed->qmin < 0 ? 128 : 0;
}
/// Rows of an f32 [M, K] (K % 4 == 0) quantized as tfx.quantize_activations
/// does (int8 with scale amax / 127 per row, or `fixed`), as unsigned bytes
/// (the stored integer + unsignedShift(fixed)) four to an i32 ([M, K/4],
/// byte i of lane kq holds channel 4 kq + i) and the scales [M]: the
/// unsigned operand of vpdpbusd.
std::pair<Value, Value> quantizeRowsToQuads(OpBuilder &b, Location loc, Value x,
                                            const std::optional<ActivationQuant> &fixed);
/// The dense weight of a tfx.sparse_csr / tfx.sparse_2to4 that some user
/// other than the sparse kernel reads.
FailureOr<Value> lowerSparseWeight(FuncLowering &fl, OpBuilder &b, Operation *op);
/// tfx.paged_attention has only this loop-nest lowering (in both modes).
FailureOr<Value> lowerLinearAttention(FuncLowering &fl, OpBuilder &b,
                                      AttentionOp op);
FailureOr<Value> lowerPagedAttention(FuncLowering &fl, OpBuilder &b,
                                     PagedAttentionOp op);

} // namespace mlir::tfx


namespace mlir::tfx {
/// i1: attention mask element `m` (any type) keeps its key.
Value maskKeeps(OpBuilder &b, Location loc, Value m);
/// i1: key index `key` is visible from query index `query` (both index)
/// under the causal flag and window; `offset` is kv_len - q_len. With a
/// block-sparse `layout` (i8 tensor of layoutBlocks^2 entries, blocks of
/// `blockSize`) and `globalTokens`, as tfx.attention defines them.
Value causalWindowVisible(OpBuilder &b, Location loc, Value query, Value key,
                          int64_t offset, bool causal, int64_t window,
                          int64_t globalTokens = 0, int64_t blockSize = 0,
                          Value layout = {}, int64_t layoutBlocks = 0);
} // namespace mlir::tfx

#endif // TFX_CODEGEN_CPU_LOWERING_H
