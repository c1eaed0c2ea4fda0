//===- Passes.h - tfx passes ------------------------------------*- C++ -*-===//
#ifndef TFX_PASSES_PASSES_H
#define TFX_PASSES_PASSES_H

#include "tfx/Dialect/Tfx.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tfx {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers the named pipelines (see Pipelines.cpp).
void registerTfxPipelines();

} // namespace mlir::tfx

#endif // TFX_PASSES_PASSES_H
