//===- Tensor.cpp - a plain host tensor -----------------------------------===//

#include "tfx/Support/Tensor.h"

namespace mlir::tfx {

const char *dtypeName(DType d) {
  switch (d) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::F64: return "f64";
  case DType::I64: return "i64";
  case DType::I32: return "i32";
  case DType::I8: return "i8";
  case DType::U8: return "u8";
  case DType::Bool: return "bool";
  }
  return "?";
}

bool isFloatDType(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16 ||
         d == DType::F64;
}

int64_t checkedElementCount(const int64_t *dims, size_t rank) {
  int64_t n = 1;
  for (size_t k = 0; k < rank; ++k) {
    int64_t d = dims[k];
    if (d < 0 || d > kMaxTensorElements ||
        (d != 0 && n > kMaxTensorElements / d))
      return -1;
    n *= d;
  }
  return n;
}

int64_t Tensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::floats(std::vector<int64_t> shape, float fill, DType dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.f.assign(t.numElements(), fill);
  return t;
}

Tensor Tensor::ints(std::vector<int64_t> shape, int64_t fill, DType dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.i.assign(t.numElements(), fill);
  return t;
}

std::string Tensor::shapeString() const {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? "," : "") + std::to_string(shape[k]);
  return s + "]";
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t k = (int64_t)shape.size() - 2; k >= 0; --k)
    strides[k] = strides[k + 1] * shape[k + 1];
  return strides;
}

} // namespace mlir::tfx
