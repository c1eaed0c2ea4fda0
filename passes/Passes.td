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

#endif // TFX_PASSES_TD
