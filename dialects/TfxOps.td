//===- TfxOps.td - tfx operations --------------------------*- tablegen -*-===//
#ifndef TFX_OPS_TD
#define TFX_OPS_TD

include "TfxDialect.td"
include "TfxAttrs.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Tfx_Tensor : RankedTensorOf<[AnyType]>;
def Tfx_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Tfx_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Tfx_WeightOp : Tfx_Op<"weight", [Pure]> {
  let summary = "a named weight tensor of the model's weight file";
  let description = [{
    Refers to the tensor `name` of the file named by the enclosing module's
    `tfx.weights` attribute. The data is never printed. With `transposed` the
    stored tensor is 2-D and is read transposed (PyTorch `nn.Linear` and
    GPT-2 `Conv1D` store the two layouts).

    ```mlir
    %w = tfx.weight "encoder.layer.0.attention.self.query.weight" : tensor<128x128xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, UnitAttr:$transposed);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$name (`transposed` $transposed^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tfx_DequantizeOp : Tfx_Op<"dequantize", [Pure, InferTypeOpAdaptor]> {
  let summary = "integer weights times group-wise scales (weight-only quantization)";
  let description = [{
    `result[n, k] = q[n, k] * scales[n, k / group_size]`: a 2-D `[out, in]`
    weight stored as signed integers (`i8`, or `i4` in `[-8, 7]`) with one
    scale per output channel and group of `group_size` consecutive input
    channels (`group_size = in`: per output channel). `scales` is
    `[out, in / group_size]`. The scales are operands, not part of the
    element type as in `!quant.uniform` sub-channel types, so that the
    printed module of a large model stays readable: both are weights.
    `tfx.linear` consumes the result; code generation fuses the two into a
    GEMM that unpacks the integers in registers.
    ```mlir
    %w = tfx.dequantize %q, %s {group_size = 128 : i64}
         : (tensor<3072x768xi4>, tensor<3072x6xf32>) -> tensor<3072x768xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8, I<4>]>:$q, Tfx_FloatTensor:$scales,
                       ConfinedAttr<I64Attr, [IntPositive]>:$group_size);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// Bits of one stored integer (8 or 4).
    unsigned getBits() {
      return getQ().getType().getElementType().getIntOrFloatBitWidth();
    }
  }];
}

def Tfx_QuantizeActivationsOp : Tfx_Op<"quantize_activations",
                                         [Pure, SameOperandsAndResultType]> {
  let summary = "quantization of activations to 8-bit integers and back (a Q/DQ pair)";
  let description = [{
    ONNX's QuantizeLinear/DequantizeLinear pair in one op, in two forms.

    Dynamic (no `quant_type`): each row `x[..., :]` (the last dimension) is
    rounded to signed `bits`-bit integers with a scale computed from the data
    at run time: with `qmax = 2^(bits-1) - 1` and `amax = max |x[r, :]|`,
    `result[r, k] = clamp(round_even(x[r, k] * (qmax / amax)), -qmax, qmax)
    * (amax / qmax)` (zeros for a row of zeros), computed in f32.

    Static (`quant_type`, calibrated): one `!quant.uniform` type for the whole
    tensor gives the scale `s`, the zero point `z` and the storage range
    `[qmin, qmax]`: `result = (clamp(round_even(x * (1 / s)) + z, qmin, qmax)
    - z) * s`. A signed storage type with `z = 0` is symmetric quantization
    (`!quant.uniform<i8<-127:127>:f32, 0.02>`); an unsigned one with a zero
    point is asymmetric (`!quant.uniform<u8:f32, 0.01:113>`), which spends
    all 256 levels on a range that is not centred on zero (after GELU, say).
    The storage width must equal `bits`.

    A `tfx.linear` whose input is this op and whose weight is a
    `tfx.dequantize` of int8 per output channel is what W8A8 quantization
    produces; code generation runs it as an integer GEMM (AVX-512 VNNI where
    the target has it) and rescales the int32 sums.
    ```mlir
    %xq = tfx.quantize_activations %x {bits = 8 : i64} : tensor<1x128x768xf32>
    %xs = tfx.quantize_activations %x {quant_type = !quant.uniform<u8:f32, 0.0123:128>}
          : tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$input,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<2>, IntMaxValue<8>]>,
                                         "8">:$bits,
                       OptionalAttr<TypeAttr>:$quant_type);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The static scale, zero point and storage range, or null (dynamic).
    ::mlir::quant::UniformQuantizedType getStaticType() {
      auto attr = getQuantTypeAttr();
      return attr ? ::llvm::dyn_cast<::mlir::quant::UniformQuantizedType>(attr.getValue())
                  : ::mlir::quant::UniformQuantizedType();
    }
  }];
}

def Tfx_SparseCsrOp : Tfx_Op<"sparse_csr", [Pure]> {
  let summary = "a 2-D weight stored as its nonzeros by rows (unstructured sparsity)";
  let description = [{
    The `[out, in]` result is zero except at `result[n, columns[j]] =
    values[j]` for `j` in `[row_offsets[n], row_offsets[n + 1])`: the
    nonzeros of row `n`, columns increasing. `row_offsets` has `out + 1`
    elements from 0 to the number of nonzeros. `columns` is `i16` when
    `in <= 32768` (6 bytes per nonzero with f32 values, so that 50%
    sparsity already stores less than dense) and `i32` otherwise.
    `tfx.linear` consumes the result; code generation reads the nonzeros
    directly (a kernel that does work only for them).

    Sparse weights are explicit storage tensors, as `tfx.dequantize`'s are,
    rather than a `sparse_tensor` encoding on one value: the storage is
    what the pruning pass computes, what the artifact stores and what the
    kernel reads, and each is a resource blob the printed IR only names.
    ```mlir
    %w = tfx.sparse_csr %values, %columns, %offsets
         : (tensor<1179648xf32>, tensor<1179648xi16>, tensor<3073xi32>) -> tensor<3072x768xf32>
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$values, RankedTensorOf<[I16, I32]>:$columns,
                       RankedTensorOf<[I32]>:$row_offsets);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Tfx_Sparse24Op : Tfx_Op<"sparse_2to4", [Pure, InferTypeOpAdaptor]> {
  let summary = "a 2-D weight with two nonzeros in every four input channels (2:4)";
  let description = [{
    Semi-structured 2:4 sparsity: each group of four consecutive input
    channels of each row holds at most two nonzeros. `values` `[out, in / 2]`
    keeps them in order, two per group; `meta` `[out, in / 8]` (`i8`, read
    as unsigned bytes) holds their positions in the group, 2 bits each,
    four per byte from the low bits up: byte `b` of row `n` describes
    `values[n, 4b .. 4b + 3]`, the groups `2b` and `2b + 1`. So
    `result[n, 4g + ((meta[n, g / 2] >> (4 (g % 2) + 2 i)) & 3)] =
    values[n, 2g + i]` for `i` in {0, 1}. The two positions of a group
    differ. The layout is the one NVIDIA's sparse tensor cores read.
    ```mlir
    %w = tfx.sparse_2to4 %values, %meta
         : (tensor<3072x384xf32>, tensor<3072x96xi8>) -> tensor<3072x768xf32>
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$values, RankedTensorOf<[I8]>:$meta);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Transformer ops
//===----------------------------------------------------------------------===//

def Tfx_EmbeddingOp : Tfx_Op<"embedding", [Pure, InferTypeOpAdaptor]> {
  let summary = "row lookup in an embedding table";
  let description = [{
    `result[i..., :] = table[ids[i...], :]`. Ids outside `[0, rows)` are an
    error at run time.

    ```mlir
    %h = tfx.embedding %ids, %table : (tensor<2x16xi64>, tensor<1000x128xf32>) -> tensor<2x16x128xf32>
    ```
  }];
  let arguments = (ins Tfx_IndexTensor:$ids, Tfx_FloatTensor:$table);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` functional-type(operands, results)";
}

def Tfx_LinearOp : Tfx_Op<"linear", [Pure, InferTypeOpAdaptor]> {
  let summary = "y = x W^T + b";
  let description = [{
    A fully connected layer. `weight` is `[out, in]` (the PyTorch layout, one
    output channel per row), `bias` is optional and `[out]`. The input may
    have any number of leading dimensions.

    ```mlir
    %y = tfx.linear %x, %w, %b : (tensor<2x16x128xf32>, tensor<512x128xf32>, tensor<512xf32>) -> tensor<2x16x512xf32>
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$input, Tfx_FloatTensor:$weight,
                       Optional<Tfx_FloatTensor>:$bias);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_MatMulOp : Tfx_Op<"matmul", [Pure, InferTypeOpAdaptor]> {
  let summary = "batched matrix product with broadcasting (ONNX MatMul)";
  let description = [{
    Matrix product over the last two dimensions, leading dimensions
    broadcast (numpy `matmul` rules; 1-D operands are promoted and the unit
    dimension dropped again).
  }];
  let arguments = (ins Tfx_FloatTensor:$lhs, Tfx_FloatTensor:$rhs);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_AttentionOp : Tfx_Op<"attention", [Pure, InferTypeOpAdaptor]> {
  let summary = "multi-head scaled-dot-product attention";
  let description = [{
    `q` is `[batch, q_len, num_heads * head_dim]`, `k` and `v` are
    `[batch, kv_len, num_kv_heads * head_dim]`; query head `h` reads kv-head
    `h / (num_heads / num_kv_heads)` (grouped-query attention; MQA when
    `num_kv_heads` is 1). Scores are `scale * q.k`. Masks combine:
    `causal` lets query `i` see keys `j <= i + (kv_len - q_len)`; `window`
    (when > 0) further limits it to the keys less than `window` positions
    away (with `causal`, the last `window` keys; without, `window - 1` on
    either side and its own); the optional
    `mask` operand `[batch, kv_len]` (nonzero = keep) hides padding. A query
    that sees no key produces zeros. The result has `q`'s shape.

    Sparse layouts (with `kind = softmax`), where `pos` is the query's
    position among the keys:
    - `block_size` B > 0 with `block_layout`, a row-major boolean matrix of
      `nb x nb` blocks (`nb = ceil(kv_len / B)`): key `j` is visible to the
      query at `pos` where `block_layout[pos / B][j / B]` holds. Exclusive
      with `window`; needs `q_len <= kv_len`.
    - `global_tokens` G > 0 (with `window` or a block layout): the first G
      keys are visible to every query, and the queries at positions below G
      see every key (as in Longformer); both still under `causal` and the
      padding mask.
    The CPU kernel visits only the key blocks these leave visible, so the
    work grows with the visible pairs rather than with q_len x kv_len.

    `kind` other than `softmax` replaces the softmax by kernelized (linear)
    attention, a different function of the inputs:
    `out_i = phi(q_i) . S / (phi(q_i) . z)` with `S = sum_j phi(k_j)^T v_j`
    and `z = sum_j phi(k_j)` over the keys the query sees (all of them, or
    `j <= pos` with `causal`; padding keys excluded), zeros where the
    denominator is not positive. `linear_elu`: `phi(x) = elu(x) + 1`;
    `linear_relu`: `phi(x) = relu(x)`, both on the raw head vectors
    (`scale` unused); `linear_random`: `features` positive random features
    `phi(x)_f = exp(w_f . x' - |x'|^2 / 2) / sqrt(features)` of
    `x' = sqrt(scale) x`, an unbiased estimate of `exp(scale q.k)`, whose
    projection `w_f` (standard normal, `features x head_dim`) is generated
    from `feature_seed` by the generator of tfx/Support/RandomFeatures.h, so
    that the IR stays small and every backend draws the same matrix.
    `window`, `global_tokens` and block layouts do not apply to them.

    ```mlir
    %o = tfx.attention %q, %k, %v, %mask {num_heads = 4 : i64, num_kv_heads = 2 : i64,
           scale = 0.176776695 : f32, causal = true}
         : (tensor<2x16x128xf32>, tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<2x16xi64>) -> tensor<2x16x128xf32>
    %s = tfx.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 4 : i64,
           scale = 0.25 : f32, window = 256 : i64, global_tokens = 2 : i64} : ...
    %l = tfx.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 4 : i64,
           scale = 0.25 : f32, kind = #tfx<attention_kind linear_random>,
           features = 64 : i64, feature_seed = 7 : i64} : ...
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$q, Tfx_FloatTensor:$k, Tfx_FloatTensor:$v,
                       Optional<Tfx_Tensor>:$mask,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       F32Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$window,
                       DefaultValuedAttr<Tfx_AttentionKindAttr,
                                         "AttentionKind::softmax">:$kind,
                       DefaultValuedAttr<I64Attr, "0">:$global_tokens,
                       DefaultValuedAttr<I64Attr, "0">:$block_size,
                       DefaultValuedOptionalAttr<DenseBoolArrayAttr, "{}">:$block_layout,
                       DefaultValuedAttr<I64Attr, "0">:$features,
                       DefaultValuedAttr<I64Attr, "0">:$feature_seed);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    int64_t getHeadDim() {
      return getQ().getType().getShape().back() / getNumHeads();
    }
    bool isLinear() { return getKind() != AttentionKind::softmax; }
    /// Whether the query at position `pos` sees key `key` by the causal,
    /// window, block and global-token rules (the mask operand aside).
    bool seesKey(int64_t pos, int64_t key);
  }];
}

def Tfx_PagedAttentionOp : Tfx_Op<"paged_attention", [Pure, InferTypeOpAdaptor]> {
  let summary = "causal attention of new tokens over a paged key/value cache";
  let description = [{
    One decoder layer's attention in a generation step. `q` is
    `[batch, tokens, num_heads * head_dim]`; `k` and `v` are the new tokens'
    keys and values `[batch, tokens, kv_width]` (`kv_width = num_kv_heads *
    head_dim`). Sequence `b` already holds `cache_lengths[b]` tokens in the
    cache, so its new token `i` sits at position `p = cache_lengths[b] + i`.
    It sees the cached positions `j < cache_lengths[b]` and the new tokens
    `i' <= i`; with `window > 0` only positions `> p - window`.

    The cache is a pool of fixed-size blocks shared by all sequences:
    `k_cache` is `[blocks, layers, kv_width, block_size]` (keys transposed
    within a block, so that a vector holds consecutive keys) and `v_cache` is
    `[blocks, layers, block_size, kv_width]`. Position `j` of sequence `b`
    lives in block `block_table[b, j / block_size]` at slot
    `j % block_size`, layer `layer`. Lengths outside `[0, max_blocks *
    block_size]` and block ids outside `[0, blocks)` of the used part of
    the table are errors at run time.

    The op only reads the cache: the caller stores the new `k`/`v` rows
    after the step (and may drop some, as speculative decoding does).
    Scores, softmax and the weighted sum follow `tfx.attention`.

    ```mlir
    %o = tfx.paged_attention %q, %k, %v, %kc, %vc, %table, %lengths
           {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.176776695 : f32, layer = 0 : i64}
         : (tensor<1x1x128xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>,
            tensor<32x2x64x16xf32>, tensor<32x2x16x64xf32>, tensor<1x8xi32>,
            tensor<1xi64>) -> tensor<1x1x128xf32>
    ```
  }];
  let arguments = (ins Tfx_FloatTensor:$q, Tfx_FloatTensor:$k, Tfx_FloatTensor:$v,
                       Tfx_FloatTensor:$k_cache, Tfx_FloatTensor:$v_cache,
                       Tfx_IndexTensor:$block_table, Tfx_IndexTensor:$cache_lengths,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
                       F32Attr:$scale,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
                       DefaultValuedAttr<I64Attr, "0">:$window);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    int64_t getHeadDim() {
      return getQ().getType().getShape().back() / getNumHeads();
    }
    int64_t getBlockSize() {
      return getKCache().getType().getShape().back();
    }
  }];
}

def Tfx_LayerNormOp : Tfx_Op<"layer_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "layer normalization over the last dimension";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * gamma + beta`, statistics over the
    last dimension (biased variance). `beta` is optional.
  }];
  let arguments = (ins Tfx_FloatTensor:$input, Tfx_FloatTensor:$gamma,
                       Optional<Tfx_FloatTensor>:$beta, F32Attr:$epsilon);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_RmsNormOp : Tfx_Op<"rms_norm", [Pure, InferTypeOpAdaptor]> {
  let summary = "root-mean-square normalization over the last dimension";
  let description = [{ `x / sqrt(mean(x^2) + epsilon) * gamma` (Llama, Qwen2, Mistral). }];
  let arguments = (ins Tfx_FloatTensor:$input, Tfx_FloatTensor:$gamma, F32Attr:$epsilon);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_RopeOp : Tfx_Op<"rope", [Pure, InferTypeOpAdaptor]> {
  let summary = "rotary position embedding";
  let description = [{
    Rotates feature pairs of each head of `input` (`[batch, seq,
    num_heads * head_dim]`) by `pos * theta^(-2i/rotary_dim)`, `i` in
    `[0, rotary_dim/2)`. Positions come from the optional `positions` operand
    (`[batch, seq]`) or are `0 .. seq-1`. `layout = half` pairs feature `i`
    with `i + rotary_dim/2` (Llama); `interleaved` pairs `2i` with `2i+1`.
    Features past `rotary_dim` pass through.
  }];
  let arguments = (ins Tfx_FloatTensor:$input, Optional<Tfx_IndexTensor>:$positions,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
                       ConfinedAttr<I64Attr, [IntPositive]>:$rotary_dim,
                       F64Attr:$theta,
                       DefaultValuedAttr<Tfx_RopeLayoutAttr, "RopeLayout::half">:$layout);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_SoftmaxOp : Tfx_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let arguments = (ins Tfx_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Tfx_GeluOp : Tfx_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "Gaussian error linear unit";
  let description = [{ `approximate = erf` (BERT) or `tanh` (GPT-2 `gelu_new`). }];
  let arguments = (ins Tfx_FloatTensor:$input,
                       DefaultValuedAttr<Tfx_GeluApproxAttr, "GeluApprox::erf">:$approximate);
  let results = (outs Tfx_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Elementwise ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class Tfx_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Tfx_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType], traits)> {
  let summary = what;
  let arguments = (ins Tfx_Tensor:$input);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tfx_SiluOp : Tfx_UnaryOp<"silu", "x * sigmoid(x)">;
def Tfx_ReluOp : Tfx_UnaryOp<"relu", "max(x, 0)">;
def Tfx_SigmoidOp : Tfx_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Tfx_TanhOp : Tfx_UnaryOp<"tanh", "hyperbolic tangent">;
def Tfx_ErfOp : Tfx_UnaryOp<"erf", "error function">;
def Tfx_ExpOp : Tfx_UnaryOp<"exp", "natural exponential">;
def Tfx_LogOp : Tfx_UnaryOp<"log", "natural logarithm">;
def Tfx_SqrtOp : Tfx_UnaryOp<"sqrt", "square root">;
def Tfx_RsqrtOp : Tfx_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Tfx_ReciprocalOp : Tfx_UnaryOp<"reciprocal", "1 / x">;
def Tfx_NegOp : Tfx_UnaryOp<"neg", "-x">;
def Tfx_AbsOp : Tfx_UnaryOp<"abs", "|x|">;
def Tfx_CosOp : Tfx_UnaryOp<"cos", "cosine">;
def Tfx_SinOp : Tfx_UnaryOp<"sin", "sine">;
def Tfx_NotOp : Tfx_UnaryOp<"not", "logical not of an i1 tensor">;

def Tfx_IsNanOp : Tfx_Op<"is_nan", [Pure]> {
  let summary = "true where the input is NaN";
  let arguments = (ins Tfx_FloatTensor:$input);
  let results = (outs RankedTensorOf<[I1]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

class Tfx_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Tfx_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor], traits)> {
  let summary = what;
  let description = "Elementwise with numpy broadcasting; both operands share an element type.";
  let arguments = (ins Tfx_Tensor:$lhs, Tfx_Tensor:$rhs);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_AddOp : Tfx_BinaryOp<"add", "elementwise sum", [Commutative]>;
def Tfx_SubOp : Tfx_BinaryOp<"sub", "elementwise difference">;
def Tfx_MulOp : Tfx_BinaryOp<"mul", "elementwise product", [Commutative]>;
def Tfx_DivOp : Tfx_BinaryOp<"div", "elementwise quotient (integer division truncates)">;
def Tfx_PowOp : Tfx_BinaryOp<"pow", "elementwise power">;
def Tfx_MaxOp : Tfx_BinaryOp<"max", "elementwise maximum", [Commutative]>;
def Tfx_MinOp : Tfx_BinaryOp<"min", "elementwise minimum", [Commutative]>;
def Tfx_AndOp : Tfx_BinaryOp<"and", "elementwise logical and of i1 tensors", [Commutative]>;
def Tfx_OrOp : Tfx_BinaryOp<"or", "elementwise logical or of i1 tensors", [Commutative]>;
// Comparisons produce i1.
def Tfx_EqualOp : Tfx_BinaryOp<"equal", "elementwise ==", [Commutative]>;
def Tfx_LessOp : Tfx_BinaryOp<"less", "elementwise <">;
def Tfx_LessEqualOp : Tfx_BinaryOp<"less_equal", "elementwise <=">;
def Tfx_GreaterOp : Tfx_BinaryOp<"greater", "elementwise >">;
def Tfx_GreaterEqualOp : Tfx_BinaryOp<"greater_equal", "elementwise >=">;

def Tfx_WhereOp : Tfx_Op<"where", [Pure, InferTypeOpAdaptor]> {
  let summary = "elementwise select with numpy broadcasting";
  let arguments = (ins RankedTensorOf<[I1]>:$condition, Tfx_Tensor:$on_true,
                       Tfx_Tensor:$on_false);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_CastOp : Tfx_Op<"cast", [Pure]> {
  let summary = "element type conversion (float <-> int truncates toward zero; to i1 is != 0)";
  let arguments = (ins Tfx_Tensor:$input);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Shape and data movement ops
//===----------------------------------------------------------------------===//

def Tfx_ReshapeOp : Tfx_Op<"reshape", [Pure]> {
  let summary = "reinterpret the shape, row-major order kept";
  let arguments = (ins Tfx_Tensor:$input);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tfx_ExpandOp : Tfx_Op<"expand", [Pure]> {
  let summary = "broadcast to a larger shape (numpy rules)";
  let arguments = (ins Tfx_Tensor:$input);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Tfx_TransposeOp : Tfx_Op<"transpose", [Pure, InferTypeOpAdaptor]> {
  let summary = "permute dimensions: result dim i is input dim perm[i]";
  let arguments = (ins Tfx_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input `,` $perm attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Tfx_SliceOp : Tfx_Op<"slice", [Pure, InferTypeOpAdaptor]> {
  let summary = "strided slice with static offsets, sizes and strides per dimension";
  let arguments = (ins Tfx_Tensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$sizes, DenseI64ArrayAttr:$strides);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Tfx_ConcatOp : Tfx_Op<"concat", [Pure, InferTypeOpAdaptor]> {
  let summary = "join tensors along an axis";
  let arguments = (ins Variadic<Tfx_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
}

def Tfx_GatherOp : Tfx_Op<"gather", [Pure, InferTypeOpAdaptor]> {
  let summary = "take slices along an axis by index (ONNX Gather)";
  let description = [{
    `result` has shape `data[:axis] + indices + data[axis+1:]`. Negative
    indices count from the end.
  }];
  let arguments = (ins Tfx_Tensor:$data, Tfx_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_GatherElementsOp : Tfx_Op<"gather_elements", [Pure, InferTypeOpAdaptor]> {
  let summary = "elementwise gather along an axis (ONNX GatherElements)";
  let arguments = (ins Tfx_Tensor:$data, Tfx_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_GatherNdOp : Tfx_Op<"gather_nd", [Pure, InferTypeOpAdaptor]> {
  let summary = "gather slices by index tuples (ONNX GatherND)";
  let description = [{
    With `q = indices.shape[-1]` and `b = batch_dims`, the result has shape
    `indices.shape[:-1] + data.shape[b+q:]`; each index tuple addresses
    dimensions `b .. b+q-1` of `data` (the first `b` dimensions are shared
    batch dimensions). Negative indices count from the end.
  }];
  let arguments = (ins Tfx_Tensor:$data, Tfx_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def Tfx_ReduceOp : Tfx_Op<"reduce", [Pure, InferTypeOpAdaptor]> {
  let summary = "reduce over axes (sum, mean, max, min)";
  let arguments = (ins Tfx_Tensor:$input, Tfx_ReduceKindAttr:$kind,
                       DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Tfx_Tensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input) `->` type($result)";
}

#endif // TFX_OPS_TD
