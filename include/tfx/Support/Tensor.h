//===- Tensor.h - a plain host tensor ---------------------------*- C++ -*-===//
//
// The value type of the reference interpreter, the weight readers and the
// safetensors writer. Deliberately simple: floating-point data is held as
// f32, every integer and boolean type as int64, whatever the source type.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_SUPPORT_TENSOR_H
#define TFX_SUPPORT_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace mlir::tfx {

/// The most elements one tensor may have anywhere in tfx (4 TiB of f32).
/// Shapes beyond it are refused where they enter: weight files, ONNX
/// shapes and attributes, graph inputs.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

/// The element count of `dims`, or -1 when a dimension is negative or the
/// count exceeds kMaxTensorElements (computed without overflow).
int64_t checkedElementCount(const int64_t *dims, size_t rank);
template <typename Range> int64_t checkedElementCount(const Range &dims) {
  return checkedElementCount(std::data(dims), std::size(dims));
}

/// Logical element type (what the IR or the file says).
enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, I8, U8, Bool };

const char *dtypeName(DType d);
bool isFloatDType(DType d);

struct Tensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<float> f;   ///< data when isFloat()
  std::vector<int64_t> i; ///< data when !isFloat() (integers and bool)

  bool isFloat() const { return isFloatDType(dtype); }
  int64_t numElements() const;
  int64_t rank() const { return (int64_t)shape.size(); }

  static Tensor floats(std::vector<int64_t> shape, float fill = 0.0f,
                       DType dtype = DType::F32);
  static Tensor ints(std::vector<int64_t> shape, int64_t fill = 0,
                     DType dtype = DType::I64);
  /// Element `k` (row-major) as double, whatever the storage.
  double at(int64_t k) const { return isFloat() ? f[k] : (double)i[k]; }
  std::string shapeString() const;
};

/// Row-major strides of `shape`.
std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape);

} // namespace mlir::tfx

#endif // TFX_SUPPORT_TENSOR_H
