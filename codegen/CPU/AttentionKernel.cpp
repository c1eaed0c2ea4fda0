//===- AttentionKernel.cpp - flash-style attention loop nest --------------===//

#include "Lowering.h"

using namespace mlir;
using namespace mlir::tfx;

FailureOr<Value> mlir::tfx::lowerAttentionKernel(FuncLowering &, OpBuilder &,
                                                 AttentionOp) {
  return failure();
}
