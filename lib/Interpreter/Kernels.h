//===- Kernels.h - op math of the reference interpreter ---------*- C++ -*-===//
//
// Plain functions on host tensors, one per op family, independent of the IR
// so that tests and other tools can call them directly. They report bad
// operands as llvm::Error without a location; evaluateOp adds the op's name
// and location. Conventions (see Tensor.h): floating-point data is f32 in
// `Tensor::f`, integer and boolean data int64 in `Tensor::i`; every
// reduction accumulates in double.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_LIB_INTERPRETER_KERNELS_H
#define TFX_LIB_INTERPRETER_KERNELS_H

#include "tfx/Support/Quantize.h"
#include "tfx/Support/Tensor.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace mlir::tfx::kernels {

using Shape = std::vector<int64_t>;

llvm::Error kernelError(const llvm::Twine &message);

/// Calls `fn(outIndex, inIndex)` for every element of `out`, where
/// `inIndex[n]` is the row-major offset of the element of input `n` (shape
/// `ins[n]`, numpy-broadcast to `out`) that feeds it. At most 3 inputs.
template <typename Fn>
void forEachBroadcast(const Shape &out, llvm::ArrayRef<Shape> ins, Fn fn) {
  int64_t total = 1;
  for (int64_t d : out)
    total *= d;
  size_t n = ins.size(), rank = out.size();
  int64_t idx[3] = {0, 0, 0};
  if (llvm::all_of(ins, [&](const Shape &s) { return s == out; })) {
    for (int64_t o = 0; o < total; ++o) {
      idx[0] = idx[1] = idx[2] = o;
      fn(o, idx);
    }
    return;
  }
  // strides[k][d]: step of input k when output dim d advances (0 when broadcast).
  std::vector<std::vector<int64_t>> strides(n, std::vector<int64_t>(rank, 0));
  for (size_t k = 0; k < n; ++k) {
    Shape inStrides = stridesOf(ins[k]);
    size_t offset = rank - ins[k].size();
    for (size_t d = 0; d < ins[k].size(); ++d)
      strides[k][offset + d] = ins[k][d] == 1 ? 0 : inStrides[d];
  }
  std::vector<int64_t> counter(rank, 0);
  for (int64_t o = 0; o < total; ++o) {
    fn(o, idx);
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      for (size_t k = 0; k < n; ++k)
        idx[k] += strides[k][d];
      if (++counter[d] < out[d])
        break;
      for (size_t k = 0; k < n; ++k)
        idx[k] -= strides[k][d] * out[d];
      counter[d] = 0;
    }
  }
}

//===--- Elementwise (KernelsElementwise.cpp) ----------------------------===//

enum class UnaryKind {
  Silu, Relu, Sigmoid, Tanh, Erf, Exp, Log, Sqrt, Rsqrt, Reciprocal, Neg,
  Abs, Cos, Sin, Not, IsNan
};
enum class BinaryKind {
  Add, Sub, Mul, Div, Pow, Max, Min, And, Or,
  Equal, Less, LessEqual, Greater, GreaterEqual
};

/// Numpy broadcasting of two shapes, with an error naming both.
llvm::Expected<Shape> broadcast(const Shape &a, const Shape &b);

llvm::Expected<Tensor> unary(UnaryKind kind, const Tensor &x, DType resultType);
/// Comparisons give Bool; the others `resultType`. Integer math is int64
/// (division truncates toward zero, division by zero is an error).
llvm::Expected<Tensor> binary(BinaryKind kind, const Tensor &a, const Tensor &b,
                              DType resultType);
llvm::Expected<Tensor> where(const Tensor &cond, const Tensor &onTrue,
                             const Tensor &onFalse, DType resultType);
/// float -> int truncates toward zero (NaN -> 0, saturating at the int64
/// range) then wraps to the target width; to Bool is `!= 0`; to f16/bf16
/// rounds to that precision (round to nearest even).
Tensor cast(const Tensor &x, DType to);
Tensor gelu(const Tensor &x, bool tanhApprox);

//===--- Data movement (KernelsShape.cpp) --------------------------------===//

llvm::Expected<Tensor> reshape(const Tensor &x, const Shape &shape);
llvm::Expected<Tensor> expand(const Tensor &x, const Shape &shape);
llvm::Expected<Tensor> transpose(const Tensor &x, llvm::ArrayRef<int64_t> perm);
llvm::Expected<Tensor> slice(const Tensor &x, llvm::ArrayRef<int64_t> offsets,
                             llvm::ArrayRef<int64_t> sizes,
                             llvm::ArrayRef<int64_t> strides);
llvm::Expected<Tensor> concat(llvm::ArrayRef<const Tensor *> inputs, int64_t axis,
                              DType resultType);
llvm::Expected<Tensor> gather(const Tensor &data, const Tensor &indices,
                              int64_t axis);
llvm::Expected<Tensor> gatherElements(const Tensor &data, const Tensor &indices,
                                      int64_t axis);
llvm::Expected<Tensor> gatherNd(const Tensor &data, const Tensor &indices,
                                int64_t batchDims);
enum class ReduceKind { Sum, Mean, Max, Min };
llvm::Expected<Tensor> reduce(const Tensor &x, ReduceKind kind,
                              llvm::ArrayRef<int64_t> axes, bool keepDims);

//===--- Transformer ops (KernelsNN.cpp) ---------------------------------===//

llvm::Expected<Tensor> embedding(const Tensor &ids, const Tensor &table);
/// q [out, in] (integers) times scales [out, in / groupSize].
llvm::Expected<Tensor> dequantize(const Tensor &q, const Tensor &scales,
                                  int64_t groupSize);
/// tfx.quantize_activations: each row rounded to `bits`-bit integers times
/// its scale amax / qmax, in f32; with `fixed`, every element rounded with
/// that static scale and zero point.
llvm::Expected<Tensor> quantizeActivations(const Tensor &x, int64_t bits,
                                           const ActivationQuant *fixed = nullptr);
/// The dense [out, in] weight of CSR storage (tfx.sparse_csr); checks that
/// the offsets and columns describe one.
llvm::Expected<Tensor> sparseCsr(const Tensor &values, const Tensor &columns,
                                 const Tensor &rowOffsets, int64_t out, int64_t in);
/// The dense weight of 2:4 storage (tfx.sparse_2to4).
llvm::Expected<Tensor> sparse24(const Tensor &values, const Tensor &meta);
llvm::Expected<Tensor> linear(const Tensor &x, const Tensor &weight,
                              const Tensor *bias);
llvm::Expected<Tensor> matmul(const Tensor &a, const Tensor &b);
llvm::Expected<Tensor> softmax(const Tensor &x, int64_t axis);
llvm::Expected<Tensor> layerNorm(const Tensor &x, const Tensor &gamma,
                                 const Tensor *beta, float epsilon);
llvm::Expected<Tensor> rmsNorm(const Tensor &x, const Tensor &gamma,
                               float epsilon);

/// The formula of tfx.attention (its AttentionKind).
enum class AttentionFormula { Softmax, LinearElu, LinearRelu, LinearRandom };

struct AttentionParams {
  int64_t numHeads = 1, numKvHeads = 1;
  float scale = 1.0f;
  bool causal = false;
  int64_t window = 0;
  int64_t globalTokens = 0;
  /// Block-sparse layout: nb x nb booleans, row-major, nb = ceil(kv_len / B).
  int64_t blockSize = 0;
  std::vector<bool> blockLayout;
  AttentionFormula formula = AttentionFormula::Softmax;
  /// linear_random: the projection's rows and the seed it is drawn from.
  int64_t features = 0;
  uint64_t featureSeed = 0;
};
llvm::Expected<Tensor> attention(const Tensor &q, const Tensor &k,
                                 const Tensor &v, const Tensor *mask,
                                 const AttentionParams &params);

struct PagedAttentionParams {
  int64_t numHeads = 1, numKvHeads = 1;
  float scale = 1.0f;
  int64_t layer = 0, window = 0;
};
/// tfx.paged_attention (KernelsPaged.cpp).
llvm::Expected<Tensor> pagedAttention(const Tensor &q, const Tensor &k,
                                      const Tensor &v, const Tensor &kCache,
                                      const Tensor &vCache,
                                      const Tensor &blockTable,
                                      const Tensor &cacheLengths,
                                      const PagedAttentionParams &params);

struct RopeParams {
  int64_t numHeads = 1, rotaryDim = 0;
  double theta = 10000.0;
  bool interleaved = false;
};
llvm::Expected<Tensor> rope(const Tensor &x, const Tensor *positions,
                            const RopeParams &params);

} // namespace mlir::tfx::kernels

#endif // TFX_LIB_INTERPRETER_KERNELS_H
