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

#endif // TFX_PASSES_TD
