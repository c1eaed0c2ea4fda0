//===- TileGenerics.cpp ---------------------------------------------------------===//

#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPUTILEGENERICS
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;

namespace {
struct TileGenericsPass : mlir::tfx::impl::TfxCpuTileGenericsBase<TileGenericsPass> {
  using TfxCpuTileGenericsBase::TfxCpuTileGenericsBase;
  void runOnOperation() override {}
};
} // namespace
