//===- TfxAttrs.td - tfx enums and attributes --------------*- tablegen -*-===//
#ifndef TFX_ATTRS_TD
#define TFX_ATTRS_TD

include "TfxDialect.td"
include "mlir/IR/EnumAttr.td"

def Tfx_GeluApprox : I32EnumAttr<"GeluApprox", "GELU formula", [
    I32EnumAttrCase<"erf", 0>,   // 0.5 x (1 + erf(x / sqrt 2))
    I32EnumAttrCase<"tanh", 1>   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  ]> {
  let cppNamespace = "::mlir::tfx";
  let genSpecializedAttr = 0;
}
def Tfx_GeluApproxAttr : EnumAttr<Tfx_Dialect, Tfx_GeluApprox, "gelu_approx">;

def Tfx_RopeLayout : I32EnumAttr<"RopeLayout", "pairing of rotated features", [
    I32EnumAttrCase<"half", 0>,        // (x[i], x[i + d/2]) pairs: Llama / NeoX
    I32EnumAttrCase<"interleaved", 1>  // (x[2i], x[2i+1]) pairs: GPT-J / original
  ]> {
  let cppNamespace = "::mlir::tfx";
  let genSpecializedAttr = 0;
}
def Tfx_RopeLayoutAttr : EnumAttr<Tfx_Dialect, Tfx_RopeLayout, "rope_layout">;

// The linear kinds change the model's function (they are not softmax
// attention computed differently), so the IR names them.
def Tfx_AttentionKind : I32EnumAttr<"AttentionKind", "attention formula", [
    I32EnumAttrCase<"softmax", 0>,
    I32EnumAttrCase<"linear_elu", 1>,    // phi(x) = elu(x) + 1
    I32EnumAttrCase<"linear_relu", 2>,   // phi(x) = relu(x)
    I32EnumAttrCase<"linear_random", 3>  // positive random features of exp(scale q.k)
  ]> {
  let cppNamespace = "::mlir::tfx";
  let genSpecializedAttr = 0;
}
def Tfx_AttentionKindAttr : EnumAttr<Tfx_Dialect, Tfx_AttentionKind, "attention_kind">;

def Tfx_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"mean", 1>,
    I32EnumAttrCase<"max", 2>, I32EnumAttrCase<"min", 3>
  ]> {
  let cppNamespace = "::mlir::tfx";
  let genSpecializedAttr = 0;
}
def Tfx_ReduceKindAttr : EnumAttr<Tfx_Dialect, Tfx_ReduceKind, "reduce_kind">;

#endif // TFX_ATTRS_TD
