//===- Passes.td - tfx passes ------------------------------*- tablegen -*-===//
#ifndef TFX_PASSES_TD
#define TFX_PASSES_TD

include "mlir/Pass/PassBase.td"

def TfxRaise : Pass<"tfx-raise", "mlir::ModuleOp"> {
  let summary = "Raise decomposed tensor math into tfx transformer ops";
  let description = [{
    Recognises the patterns that model exporters decompose transformer
    layers into (MatMul + Add, mean/variance arithmetic, erf/tanh GELU,
    rotate-half RoPE, the attention core with its mask-building subgraph)
    and replaces them with `tfx.linear`, `tfx.layer_norm`, `tfx.rms_norm`,
    `tfx.gelu`, `tfx.rope` and `tfx.attention`.
  }];
  let dependentDialects = ["mlir::tfx::TfxDialect", "mlir::arith::ArithDialect"];
}

//===----------------------------------------------------------------------===//
// Structured pruning (the tensors shrink)
//===----------------------------------------------------------------------===//

class Tfx_CompressionPass<string name> : Pass<name, "mlir::ModuleOp"> {
  let dependentDialects = ["mlir::tfx::TfxDialect", "mlir::arith::ArithDialect"];
}

defvar calibrationOptions = [
  Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
         "Calibration inputs (.safetensors, tensors input.<name> or <name>, "
         "dimension 0 a multiple of the model's batch)">,
  Option<"calibrationBatches", "calibration-batches", "int64_t", /*default=*/"8",
         "Batches of the calibration file to use (0: all)">,
];

def TfxPruneHeads : Tfx_CompressionPass<"tfx-prune-heads"> {
  let summary = "Remove the least important attention heads";
  let description = [{
    Ranks the heads of every recognised attention block (q/k/v linears,
    fused or not, optional RoPE, output projection) and removes a fraction
    of them: the rows of the q/k/v weights and biases, the columns of the
    output projection, and `num_heads`/`num_kv_heads` of the attention and
    RoPE ops all shrink. With grouped-query attention (fewer kv-heads than
    heads) each group loses the same number of query heads and the kv-heads
    stay. Importance comes from calibration data: `output-norm` is a head's
    mean squared contribution to the residual stream (its attention output
    through its columns of the output projection); `ablation` is how far
    the model's outputs move when the head's output is zeroed (one
    calibration run per head).
  }];
  let options = !listconcat([
    Option<"ratio", "ratio", "double", /*default=*/"0.25",
           "Fraction of the heads to remove (per layer, or of all heads with scope=global)">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"output-norm\"",
           "Head importance: output-norm or ablation">,
    Option<"scope", "scope", "std::string", /*default=*/"\"layer\"",
           "layer (the same count in every layer) or global (rank all heads "
           "together; multi-head attention only; every layer keeps one)">,
  ], calibrationOptions);
}

def TfxPruneFfn : Tfx_CompressionPass<"tfx-prune-ffn"> {
  let summary = "Remove the least important FFN neurons";
  let description = [{
    In every recognised FFN block (up [and gate] linear, elementwise
    activation or gating, down linear) removes a fraction of the hidden
    neurons: rows of the up/gate weights and biases, columns of the down
    weight. Importance: `output-norm` (calibration) is the root mean square
    of the neuron's activation times the norm of its down-projection
    column; `magnitude` (no calibration) is the product of the norms of its
    up (and gate) row and down column. The kept width is rounded up to a
    multiple of `multiple` so that GEMM kernels keep full panels.
  }];
  let options = !listconcat([
    Option<"ratio", "ratio", "double", /*default=*/"0.25",
           "Fraction of the neurons of each FFN to remove">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"output-norm\"",
           "Neuron importance: output-norm or magnitude">,
    Option<"multiple", "multiple", "int64_t", /*default=*/"16",
           "Round the kept width up to a multiple of this">,
  ], calibrationOptions);
}

def TfxPruneLayers : Tfx_CompressionPass<"tfx-prune-layers"> {
  let summary = "Remove whole transformer layers";
  let description = [{
    Removes the `count` least important layers (attention block plus the
    FFN block after it, with their residual adds and, for post-LN models,
    their norms): the layer's output is replaced by its input and its ops
    and weights disappear. Importance: `block-influence` is one minus the
    mean cosine similarity of the residual stream entering and leaving the
    layer on calibration data (layers that barely change the stream go
    first); `ablation` is how far the model's outputs move without the
    layer (one calibration run per layer).
  }];
  let options = !listconcat([
    Option<"count", "count", "int64_t", /*default=*/"1", "Layers to remove">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"block-influence\"",
           "Layer importance: block-influence or ablation">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Sharing (fewer distinct weights)
//===----------------------------------------------------------------------===//

def TfxShareKvHeads : Tfx_CompressionPass<"tfx-share-kv-heads"> {
  let summary = "Multi-head to grouped-query (or multi-query) attention";
  let description = [{
    Turns every recognised attention block with more than `kv-heads`
    key/value heads into grouped-query attention with `kv-heads` of them:
    consecutive heads form a group (query head h reads group h / (heads /
    kv-heads)) and the group's key and value projection rows and biases are
    pooled into one head. `mean` averages them; `weighted` weighs each head
    by how similar its keys (values) are to the other heads' of its group
    on calibration data (weight 1 + mean cosine), so that an outlier head
    pulls the shared head less. With `align`, each head is first rotated
    onto its group (generalized orthogonal Procrustes on the calibration
    keys and values); the rotation is folded into the query rows (keys)
    and the output-projection columns (values), which leaves the model
    unchanged until the rotated heads are pooled. `kv-heads=1` gives
    multi-query attention. The key/value
    projections shrink by the group size and `num_kv_heads` follows.
  }];
  let options = !listconcat([
    Option<"kvHeads", "kv-heads", "int64_t", /*default=*/"1",
           "Key/value heads to keep per attention (must divide the heads)">,
    Option<"pooling", "pooling", "std::string", /*default=*/"\"mean\"",
           "How a group's projections are pooled: mean or weighted">,
    Option<"align", "align", "bool", /*default=*/"false",
           "Rotate every kv-head onto its group before pooling (orthogonal "
           "Procrustes on calibration keys and values, folded into the query "
           "rows and output-projection columns; keys under RoPE are not rotated)">,
  ], calibrationOptions);
}

def TfxShareLayers : Tfx_CompressionPass<"tfx-share-layers"> {
  let summary = "Share near-identical weights across layers";
  let description = [{
    Compares every pair of linear-layer weights of the same shape (and
    their biases); weights within `threshold` relative distance
    (||A - B|| / ||A||) of the first of a group are replaced by the group's
    mean, stored once and used by every layer of the group.
  }];
  let options = !listconcat([
    Option<"threshold", "threshold", "double", /*default=*/"0.05",
           "Largest relative distance at which two weights are shared">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Low-rank factorization
//===----------------------------------------------------------------------===//

def TfxLowRank : Tfx_CompressionPass<"tfx-low-rank"> {
  let summary = "Replace linear layers by two thinner ones (truncated SVD)";
  let description = [{
    Factorizes the weight W [out, in] of each targeted linear layer as
    B [out, r] x A [r, in] from its truncated SVD and replaces the layer by
    `linear(linear(x, A), B, bias)`. The rank comes from `rank`, else
    `rank-ratio` x min(out, in), else the smallest rank that keeps `energy`
    of the squared singular values. A layer is only factorized where it
    saves work (r (out + in) < out x in). With `activation-aware`, the SVD
    is taken of W diag(s), s the root mean square of each input channel on
    calibration data, so that the channels the data uses most are kept
    best (A absorbs diag(1/s)).
  }];
  let options = !listconcat([
    Option<"rank", "rank", "int64_t", /*default=*/"0", "Rank of every factorization (0: not fixed)">,
    Option<"rankRatio", "rank-ratio", "double", /*default=*/"0",
           "Rank as a fraction of min(out, in) (0: not used)">,
    Option<"energy", "energy", "double", /*default=*/"0.9",
           "Retained fraction of the squared singular values, when neither rank nor rank-ratio is set">,
    ListOption<"targets", "targets", "std::string",
               "Which linears: ffn, attention, other (default ffn,attention)">,
    ListOption<"layers", "layers", "std::string",
               "Only these linears, by the name of the weight each was made from "
               "(any role; overrides targets)">,
    Option<"activationAware", "activation-aware", "bool", /*default=*/"false",
           "Weigh input channels by their calibration RMS before the SVD">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Unstructured and 2:4 pruning
//===----------------------------------------------------------------------===//

def TfxPruneWeights : Tfx_CompressionPass<"tfx-prune-weights"> {
  let summary = "Prune individual weights of linear layers (unstructured or 2:4) into sparse storage";
  let description = [{
    Zeroes the least important weights of each targeted `tfx.linear` and
    stores what is left sparse, so that the model gets physically smaller
    and the CPU kernel does work only for the nonzeros:

    - `pattern=unstructured`: `sparsity` of the weights go, wherever they
      are; the rest is `tfx.sparse_csr` (values, i16/i32 columns, row
      offsets). `scope=layer` prunes each linear to `sparsity`; `scope=row`
      each output channel (Wanda's comparison group); `scope=global` uses
      one threshold across all targeted linears, so layers end up with
      different sparsities.
    - `pattern=2:4`: two of every four consecutive input channels go in
      every row (50%); the rest is `tfx.sparse_2to4` (values and 2-bit
      positions), the layout of sparse tensor cores.

    The importance of W[n, k] is |W[n, k]| (`criterion=magnitude`) or
    |W[n, k]| x ||X[:, k]||, the L2 norm of input channel k over the
    calibration data (`criterion=wanda`, needs `calibration`).
  }];
  let options = !listconcat([
    Option<"sparsity", "sparsity", "double", /*default=*/"0.5",
           "Fraction of the weights removed (unstructured)">,
    Option<"pattern", "pattern", "std::string", /*default=*/"\"unstructured\"",
           "unstructured or 2:4">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"magnitude\"",
           "magnitude or wanda (|W| x input-channel norm, needs calibration)">,
    Option<"scope", "scope", "std::string", /*default=*/"\"layer\"",
           "Where the sparsity holds: layer, row (each output channel) or global">,
    ListOption<"targets", "targets", "std::string",
               "Which linears: ffn, attention, other (default ffn,attention)">,
    ListOption<"layers", "layers", "std::string",
               "Only these linears, by the name of the weight each was made from "
               "(any role; overrides targets)">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def TfxSmoothQuant : Tfx_CompressionPass<"tfx-smooth-quant"> {
  let summary = "SmoothQuant: move activation outliers into the weights before W8A8";
  let description = [{
    Divides input channel j of targeted linears by
    `s_j = max|X_j|^alpha / max|W_:,j|^(1 - alpha)` (activation maxima from
    the calibration data, weight maxima over the linears that share the
    input) and multiplies weight column j by `s_j`, so that the function is
    unchanged and int8 activations lose less to a few large channels. The
    division is folded into the op that produces the channels: a
    `tfx.layer_norm`/`tfx.rms_norm` whose users are all targeted linears
    (gamma and beta / s), or a softmax `tfx.attention` (rows of the V
    projection / s, columns of the output projection * s; query heads of a
    kv-head share s). Other inputs are left alone. Run it before
    `tfx-quantize-weights` with `activations=dynamic|static`; needs
    `calibration`. `alpha` 0 changes nothing that matters to the weights'
    scales, 1 moves all of the activations' range into the weights.
  }];
  let options = !listconcat([
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]">,
    ListOption<"targets", "targets", "std::string",
               "Which linears: ffn, attention, other (default ffn,attention)">,
  ], calibrationOptions);
}

def TfxQuantizeWeights : Tfx_CompressionPass<"tfx-quantize-weights"> {
  let summary = "Weight-only int8/int4 quantization of linear layers (RTN or GPTQ)";
  let description = [{
    Replaces the weight W [out, in] of each targeted `tfx.linear` by
    `tfx.dequantize` of signed integers (`bits` = 8 or 4) and f32 scales,
    one per output channel and group of `group-size` input channels
    (0: one per output channel). Activations stay in float. `method=rtn`
    rounds to nearest; `method=gptq` rounds one input channel at a time and
    compensates the error on the remaining channels through the inverse of
    the layer input's second moment X^T X measured on the calibration set
    (needs `calibration`); with `act-order` (the default) the channels go
    in decreasing order of X^T X's diagonal, so the busiest inputs are
    rounded while the most channels remain to absorb their error, and the
    group scales are fixed from the unmodified weight first (the storage
    and the kernels do not change). `clip-search` picks each group's clipping ratio
    for the least squared rounding error. Embeddings, norms and the LM head
    (targets `other`) stay in float unless named in `targets`. A layer
    whose input width `group-size` does not divide is quantized per output
    channel, and the report says so.

    With `max-error`, the pass measures each linear's sensitivity (the
    outputs' relative L2 error on the calibration data with only that
    linear quantized), then, starting from all quantized, moves the most
    sensitive remaining linear to the higher precision (int8 per output
    channel for bits=4, float for bits=8; with `activations`, float weights
    and activations) until the whole model's error
    meets the budget, re-measuring after each step: the smallest model the
    greedy order finds within the budget. It prints the choice as a table.

    With `embeddings=true`, each `tfx.embedding` table also becomes int8
    with one scale per row, a `tfx.dequantize` that the CPU gather reads
    directly; a linear sharing the table (a tied LM head) reads the same
    integers as int8 per output channel, so the table is stored once.

    With `activations=dynamic` (W8A8), the input of each int8 linear also
    goes through `tfx.quantize_activations` (int8, one scale per row
    computed at run time), so that the CPU runs the linear as an int8 GEMM
    with int32 sums. `activations=static` (needs `calibration`) fixes one
    scale per layer from what its input reaches on the calibration data, as
    a `!quant.uniform` type on the `tfx.quantize_activations`: symmetric
    int8 (`symmetric=true`) or uint8 with a zero point (`symmetric=false`),
    the range chosen by `range-method`: `minmax` (the extremes),
    `percentile` (clips the outliers beyond it) or `mse` (the clipping
    whose round trip has the least squared error on the calibration values).
  }];
  let options = !listconcat([
    Option<"bits", "bits", "int64_t", /*default=*/"8", "Bits per weight: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
           "Input channels per scale (0: one scale per output channel)">,
    Option<"method", "method", "std::string", /*default=*/"\"rtn\"",
           "Rounding: rtn (round to nearest) or gptq (error-compensating, needs calibration)">,
    ListOption<"targets", "targets", "std::string",
               "Which linears: ffn, attention, other (default ffn,attention)">,
    ListOption<"layers", "layers", "std::string",
               "Only these linears, by the name of the weight each was made from "
               "(any role; overrides targets)">,
    Option<"clipSearch", "clip-search", "bool", /*default=*/"true",
           "Search each group's clipping ratio for the least rounding error">,
    Option<"damping", "damping", "double", /*default=*/"0.01",
           "GPTQ: fraction of the mean Hessian diagonal added to it">,
    Option<"embeddings", "embeddings", "bool", /*default=*/"false",
           "Also store embedding tables as int8 with one scale per row; a tied "
           "LM head reads the same integers">,
    Option<"actOrder", "act-order", "bool", /*default=*/"true",
           "GPTQ: round input channels in decreasing order of their Hessian "
           "diagonal, with group scales fixed from the unmodified weight">,
    Option<"activations", "activations", "std::string", /*default=*/"\"none\"",
           "none (weight-only), dynamic (W8A8: each quantized linear's input is "
           "quantized to int8 per row at run time) or static (W8A8 with one "
           "calibrated scale per layer, a !quant.uniform type); both need "
           "bits=8 group-size=0">,
    Option<"symmetric", "symmetric", "bool", /*default=*/"true",
           "Static activations: int8 with zero point 0 (true) or uint8 with a "
           "zero point (false, asymmetric)">,
    Option<"rangeMethod", "range-method", "std::string", /*default=*/"\"minmax\"",
           "Static activations: how the range is chosen from the calibration data: "
           "minmax, percentile or mse (the clipping with the least squared rounding error)">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "range-method=percentile: the percentile of |x| (of x at both ends when "
           "asymmetric) that becomes the range">,
    Option<"maxError", "max-error", "double", /*default=*/"0",
           "Mixed precision: keep the most sensitive linears in higher precision "
           "(int8 for bits=4, float for bits=8) until the outputs' relative L2 "
           "error on the calibration data is at most this (0: off)">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Budgeted automatic compression
//===----------------------------------------------------------------------===//

def TfxAutoCompress : Tfx_CompressionPass<"tfx-auto-compress"> {
  let summary = "Choose a compression for each linear layer that meets a fidelity budget";
  let description = [{
    The search people do by hand, as a pass. For every targeted linear and
    every scheme in `choices` (int8 per channel, int4 in groups of 128 or per
    channel with GPTQ, W8A8
    with int8 activations per row, 2:4 with int8 values (Wanda), rank-halved
    low rank), it measures the cost in fidelity of changing that one linear
    alone, end to end on `sensitivity-batches` calibration batches: the
    increase of mean next-token cross-entropy (`max-ppl-increase`), the
    fraction of top-1 flips (`min-agreement`) or the squared relative L2
    error of the outputs (`max-error`), quantities that roughly add over
    layers. It estimates what each choice saves: stored bytes exactly, and
    latency from the measured cost table of `target`.

    The plan solves the multiple-choice knapsack exactly (dynamic
    programming over the budget in 1/4000 steps): one scheme per linear,
    the least total objective whose predicted cost fits the budget. (A
    greedy by benefit/cost ratio was tried first and chose per-channel int4
    for many layers where groups of 128 would have fit together; the exact
    optimum of the prediction is cheap at these sizes. The prediction
    itself is only approximately additive, so the plan is verified.) The
    plan is applied with the ordinary passes
    (`tfx-low-rank`, `tfx-prune-weights`, `tfx-quantize-weights` with
    `layers=`), measured on all calibration batches and on `held-out`; the
    search limit then moves by what was measured (down after a miss, up
    after a pass with room to spare, never past a limit that missed) and
    the search repeats, at most 6 times; the best plan that met wins. The chosen plan prints as a table; `save-plan` writes
    it (with the pipeline that replays it) and `html-report` draws it.
  }];
  let options = !listconcat([
    Option<"maxPplIncrease", "max-ppl-increase", "double", /*default=*/"0",
           "Budget: held-out perplexity may rise by at most this many percent (language models)">,
    Option<"minAgreement", "min-agreement", "double", /*default=*/"0",
           "Budget: top-1 agreement of the logits with the float model, at least this (0..1)">,
    Option<"maxError", "max-error", "double", /*default=*/"0",
           "Budget: relative L2 error of the outputs, at most this">,
    Option<"objective", "objective", "std::string", /*default=*/"\"size\"",
           "What to minimize: size (stored weight bytes) or latency">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Where the model runs: cpu or cuda (objective=latency needs a measured cost table: cpu)">,
    ListOption<"choices", "choices", "std::string",
               "Schemes to choose from (default int8,int4-g128,int4,w8a8,2:4,low-rank+int8,low-rank+int4,low-rank+w8a8; also low-rank)">,
    ListOption<"targets", "targets", "std::string",
               "Which linears: ffn, attention, other (default ffn,attention)">,
    Option<"sensitivityBatches", "sensitivity-batches", "int64_t", /*default=*/"2",
           "Calibration batches each sensitivity measurement runs">,
    Option<"heldOut", "held-out", "std::string", /*default=*/"\"\"",
           "Held-out inputs the plan must also meet the budget on">,
    Option<"heldOutBatches", "held-out-batches", "int64_t", /*default=*/"0",
           "Held-out batches to run (0: all)">,
    Option<"savePlan", "save-plan", "std::string", /*default=*/"\"\"",
           "Write the chosen plan (JSON) here">,
    Option<"htmlReport", "html-report", "std::string", /*default=*/"\"\"",
           "Write a self-contained HTML report of the search here">,
  ], calibrationOptions);
}

//===----------------------------------------------------------------------===//
// Attention rewrites
//===----------------------------------------------------------------------===//

def TfxSparseAttention : Tfx_CompressionPass<"tfx-sparse-attention"> {
  let summary = "Sparse softmax attention: sliding window + global tokens, or block-sparse";
  let description = [{
    Restricts every softmax `tfx.attention` to a sparse set of keys. With
    `window=W`, a query sees the keys less than W positions away: the last W
    up to its position in causal attention (Mistral), W - 1 on either side
    and its own otherwise (Longformer's window of 2W - 1), and with
    `global=G` the first G tokens are
    global: every query sees them and they see every key (under `causal`
    and the padding mask). With `block=B`, keys and query positions fall in
    blocks of B and `pattern` says which block pairs are visible:
    `local-strided` (computed per attention: query block i sees key blocks
    i - `local` + 1 .. i + `local` - 1, and every block j with
    j % `stride` == `stride` - 1, the Sparse Transformer's fixed pattern
    with its summary blocks) or a literal layout, rows of 0/1 separated
    by `/` (e.g. `110/111/011`), which must have ceil(kv_len / B) rows and
    columns. `global` combines with both. An attention that already has a
    tighter window keeps it. The pass prints, per attention, the fraction
    of query/key pairs left visible and, with calibration data, the
    fidelity against the dense model.
  }];
  let options = !listconcat([
    Option<"window", "window", "int64_t", /*default=*/"0",
           "Sliding window: keys up to W positions back (0: no window)">,
    Option<"globalTokens", "global", "int64_t", /*default=*/"0",
           "Global tokens: the first G positions, seen by and seeing every query">,
    Option<"block", "block", "int64_t", /*default=*/"0",
           "Block-sparse layout of blocks of B keys (0: none; the CPU kernel "
           "needs a multiple of 16)">,
    Option<"pattern", "pattern", "std::string", /*default=*/"\"local-strided\"",
           "Block layout: local-strided, or rows of 0/1 separated by '/'">,
    Option<"local", "local", "int64_t", /*default=*/"1",
           "local-strided: key blocks within this distance of the query's block">,
    Option<"stride", "stride", "int64_t", /*default=*/"0",
           "local-strided: every key block j with j % stride == stride - 1 is "
           "visible (0: none)">,
  ], calibrationOptions);
}

def TfxLinearAttention : Tfx_CompressionPass<"tfx-linear-attention"> {
  let summary = "Replace softmax attention by kernelized (linear) attention";
  let description = [{
    Changes the `kind` of every softmax `tfx.attention` without a window or
    block layout to a linear one, phi(q) (sum phi(k)^T v) / (phi(q) . sum
    phi(k)), which the backends compute in O(n) (running sums with
    `causal`). This changes the model's function, and the IR says so by the
    kind: `feature-map=elu` gives `linear_elu` (phi = elu + 1), `relu`
    gives `linear_relu`, `random` gives `linear_random` with
    `random-features` positive random features of exp(scale q.k), the
    projection drawn from `seed` (see tfx.attention). Without retraining the
    model, only the random features approximate the softmax; the report
    states how close on the calibration data.
  }];
  let options = !listconcat([
    Option<"featureMap", "feature-map", "std::string", /*default=*/"\"elu\"",
           "Feature map: elu, relu or random">,
    Option<"randomFeatures", "random-features", "int64_t", /*default=*/"64",
           "random: number of features (a multiple of 16 for the CPU kernel)">,
    Option<"seed", "seed", "int64_t", /*default=*/"0",
           "random: seed of the projection">,
  ], calibrationOptions);
}

def TfxKvCache : Pass<"tfx-kv-cache", "mlir::ModuleOp"> {
  let summary = "Turn a causal decoder's forward pass into a cached generation step";
  let description = [{
    Rewrites every public function of a causal decoder, imported at the step
    shape `[batch, tokens]` (`tokens` new tokens per sequence), into one step
    of generation against a key/value cache that the runtime owns:

      (input_ids [B,T], cache_lengths [B] i64, block_table [B,M] i32,
       k_cache [N,L,W,S], v_cache [N,L,S,W])
        -> (logits [B,T,V], new_k [L,B,T,W], new_v [L,B,T,W])

    with `S = block-size`, `M = context / S` blocks per sequence, `N = blocks`
    blocks in the shared pool, `L` attention layers and `W` the key/value
    width. Each causal `tfx.attention` becomes `tfx.paged_attention` over
    layer `l` of the pool; position ids (a constant `0..T-1` feeding an
    embedding or gather, and `tfx.rope` without positions) become
    `cache_lengths[b] + t`; the padding mask argument goes away (sequences
    are not padded in a step). The new tokens' keys (after RoPE) and values
    are returned for the caller to store, so the step itself only reads the
    cache.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "16",
           "Tokens per cache block">,
    Option<"context", "context", "int64_t", "0",
           "Tokens one sequence may hold (rounded down to whole blocks); 0: "
           "the learned position table's size, else 1024">,
    Option<"blocks", "blocks", "int64_t", "0",
           "Blocks in the shared pool; 0: enough for `batch` full sequences">,
  ];
  let dependentDialects = ["mlir::tfx::TfxDialect", "mlir::arith::ArithDialect",
                           "mlir::func::FuncDialect"];
}

#endif // TFX_PASSES_TD
