//===- ONNXTensor.h - decode ONNX TensorProto values ------------*- C++ -*-===//
#ifndef TFX_FRONTEND_ONNXTENSOR_H
#define TFX_FRONTEND_ONNXTENSOR_H

#include "tfx/Support/Tensor.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace mlir::tfx {

/// The host dtype of an ONNX element type (TensorProto::DataType); nullopt
/// for types tfx does not handle (strings, complex, ...).
std::optional<DType> dtypeFromONNX(int elemType);
/// "STRING (8)": an ONNX element type for messages.
std::string onnxTypeName(int64_t elemType);

/// Decodes raw_data, the typed repeated fields or external data (located
/// relative to `modelDir`, mapped and bounds-checked). `what` names the
/// tensor in errors.
llvm::Expected<Tensor> decodeTensorProto(const onnx::TensorProto &proto,
                                         llvm::StringRef modelDir,
                                         llvm::StringRef what);

} // namespace mlir::tfx

#endif // TFX_FRONTEND_ONNXTENSOR_H
