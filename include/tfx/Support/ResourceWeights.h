//===- ResourceWeights.h - weights held in MLIR resource blobs --*- C++ -*-===//
//
// Passes that compute new weights (pruned, shared, factorized, quantized)
// store them as `dense_resource` blobs owned by the MLIRContext: the printed
// IR shows a named handle (the data sits in the file's trailing
// `dialect_resources` section, so `tfx-opt` round-trips it), the interpreter
// and the code generator read the bytes through the functions below, and
// nothing is written beside the model. Blobs hold the element type's
// little-endian encoding (i1 and i4 as one byte each), the layout MLIR's parser and
// printer use.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_RESOURCEWEIGHTS_H
#define TFX_SUPPORT_RESOURCEWEIGHTS_H

#include "tfx/Support/Tensor.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/Error.h"

namespace mlir::tfx {

/// The bytes of `t` encoded as elements of `elementType` (f64, f32, f16,
/// bf16; i1 and i4 as one byte; signless/signed/unsigned integers of 4 and
/// 8-64 bits).
/// Values that do not fit an integer type are an error, never wrapped.
llvm::Expected<std::vector<char>> encodeTensor(const Tensor &t,
                                               mlir::Type elementType);

/// The inverse of encodeTensor for a `type` of static shape; `what` names
/// the data in errors.
llvm::Expected<Tensor> decodeTensor(llvm::ArrayRef<char> data,
                                    mlir::ShapedType type, llvm::StringRef what);

/// A `dense_resource` attribute of `type` holding `t`. The key is `name`
/// with characters outside [A-Za-z0-9_.] replaced by '_'; the context makes
/// it unique when the name is taken.
llvm::Expected<mlir::DenseResourceElementsAttr>
createResourceWeight(mlir::RankedTensorType type, const Tensor &t,
                     llvm::StringRef name);

/// Any elements attribute (dense, splat or dense_resource) as a host tensor.
llvm::Expected<Tensor> tensorFromElements(mlir::ElementsAttr attr);

/// Bytes one element of `elementType` occupies in a blob (i1: 1).
int64_t blobElementBytes(mlir::Type elementType);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_RESOURCEWEIGHTS_H
