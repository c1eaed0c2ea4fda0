//===- TfxDialect.td - the tfx dialect ---------------------*- tablegen -*-===//
#ifndef TFX_DIALECT_TD
#define TFX_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tfx_Dialect : Dialect {
  let name = "tfx";
  let summary = "Graph-level transformer operations";
  let description = [{
    The `tfx` dialect models a transformer the way its authors think of it:
    embeddings, linear layers, attention, normalizations and activations on
    ranked tensors. Weights are referenced by name (`tfx.weight`), never
    printed inline; the module attribute `tfx.weights` names the file that
    holds them. A small set of generic tensor ops (reshape, transpose, gather,
    elementwise math) carries whatever a frontend could not raise.
  }];
  let cppNamespace = "::mlir::tfx";
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::quant::QuantDialect"];
}

class Tfx_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfx_Dialect, mnemonic, traits>;

#endif // TFX_DIALECT_TD
