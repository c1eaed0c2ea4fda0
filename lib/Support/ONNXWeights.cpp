//===- ONNXWeights.cpp - ONNX initializers as a weight source -------------===//
//
// Decoding of TensorProto values, shared by the importer (small constants)
// and the weight store (initializers and Constant-node tensors by name).
//
//===----------------------------------------------------------------------===//

#include "tfx/Frontend/ONNXTensor.h"
#include "tfx/Support/WeightStore.h"

#include "onnx/onnx.pb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <climits>
#include <cstring>

using namespace llvm;
using namespace mlir::tfx;

/// The most elements one tensor of a file may hold (4 TiB of f32).
static constexpr uint64_t kMaxTensorElements = 1ull << 40;

static Error fail(const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), msg);
}

std::optional<DType> mlir::tfx::dtypeFromONNX(int elemType) {
  switch (elemType) {
  case onnx::TensorProto::FLOAT: return DType::F32;
  case onnx::TensorProto::FLOAT16: return DType::F16;
  case onnx::TensorProto::BFLOAT16: return DType::BF16;
  case onnx::TensorProto::DOUBLE: return DType::F64;
  case onnx::TensorProto::INT64: return DType::I64;
  case onnx::TensorProto::INT32: return DType::I32;
  case onnx::TensorProto::INT8: return DType::I8;
  case onnx::TensorProto::UINT8: return DType::U8;
  case onnx::TensorProto::BOOL: return DType::Bool;
  default: return std::nullopt;
  }
}

std::string mlir::tfx::onnxTypeName(int64_t elemType) {
  std::string number = "(" + std::to_string(elemType) + ")";
  if (elemType < INT_MIN || elemType > INT_MAX ||
      !onnx::TensorProto_DataType_IsValid((int)elemType))
    return "unknown " + number;
  return onnx::TensorProto_DataType_Name(
             (onnx::TensorProto_DataType)elemType) +
         " " + number;
}

static unsigned byteWidth(DType d) {
  switch (d) {
  case DType::F64: case DType::I64: return 8;
  case DType::F32: case DType::I32: return 4;
  case DType::F16: case DType::BF16: return 2;
  default: return 1;
  }
}

static float halfBitsToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f,
           mant = h & 0x3ff, bits;
  if (exp == 0 && mant == 0) {
    bits = sign;
  } else if (exp == 0) {
    exp = 113;
    while (!(mant & 0x400)) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Decodes `n` little-endian elements of `dtype` from `p`.
static void decodeRaw(const char *p, int64_t n, Tensor &t) {
  using namespace support::endian;
  for (int64_t k = 0; k < n; ++k) {
    switch (t.dtype) {
    case DType::F32: {
      uint32_t b = read32le(p + 4 * k);
      std::memcpy(&t.f[k], &b, 4);
      break;
    }
    case DType::F64: {
      uint64_t b = read64le(p + 8 * k);
      double d;
      std::memcpy(&d, &b, 8);
      t.f[k] = (float)d;
      break;
    }
    case DType::F16: t.f[k] = halfBitsToFloat(read16le(p + 2 * k)); break;
    case DType::BF16: {
      uint32_t b = (uint32_t)read16le(p + 2 * k) << 16;
      std::memcpy(&t.f[k], &b, 4);
      break;
    }
    case DType::I64: t.i[k] = (int64_t)read64le(p + 8 * k); break;
    case DType::I32: t.i[k] = (int32_t)read32le(p + 4 * k); break;
    case DType::I8: t.i[k] = (int8_t)p[k]; break;
    case DType::U8: case DType::Bool: t.i[k] = (uint8_t)p[k]; break;
    }
  }
}

Expected<Tensor> mlir::tfx::decodeTensorProto(const onnx::TensorProto &proto,
                                              StringRef modelDir,
                                              StringRef what) {
  std::optional<DType> dtype = dtypeFromONNX(proto.data_type());
  if (!dtype)
    return fail("tensor '" + what + "' has unsupported ONNX element type " +
                onnxTypeName(proto.data_type()));
  Tensor t;
  t.dtype = *dtype;
  uint64_t n = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0 || (d > 0 && n > kMaxTensorElements / (uint64_t)d)) {
      std::string dims;
      for (int64_t e : proto.dims())
        dims += (dims.empty() ? "" : ",") + std::to_string(e);
      return fail("tensor '" + what + "' has an invalid shape [" + dims +
                  "]: dimensions must be >= 0 and hold at most 2^40 "
                  "elements");
    }
    n *= (uint64_t)d;
    t.shape.push_back(d);
  }
  uint64_t bytes = n * byteWidth(*dtype);

  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    uint64_t offset = 0, length = bytes;
    for (const auto &kv : proto.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset" || kv.key() == "length") {
        uint64_t v;
        if (StringRef(kv.value()).getAsInteger(10, v))
          return fail("tensor '" + what + "': bad external " + kv.key());
        (kv.key() == "offset" ? offset : length) = v;
      }
    }
    // The data must live beside the model: no absolute paths, no "..".
    bool escapes = location.empty() || sys::path::is_absolute(location);
    for (auto it = sys::path::begin(location), e = sys::path::end(location);
         !escapes && it != e; ++it)
      escapes = *it == "..";
    if (escapes)
      return fail("tensor '" + what + "': bad external data location '" +
                  location + "'");
    if (length != bytes)
      return fail("tensor '" + what + "': external data length " +
                  Twine(length) + " does not match its shape (" +
                  Twine(bytes) + " bytes)");
    SmallString<256> path(modelDir);
    sys::path::append(path, location);
    // A mapping past the end of the file would fault on first touch rather
    // than fail, so the range is checked against the file's size first.
    uint64_t fileSize;
    if (std::error_code ec = sys::fs::file_size(path, fileSize))
      return fail("tensor '" + what + "': cannot read external data " + path +
                  ": " + ec.message());
    if (offset > fileSize || length > fileSize - offset)
      return fail("tensor '" + what + "': external data range [" +
                  Twine(offset) + ", " + Twine(offset) + " + " + Twine(length) +
                  ") lies outside " + path + " (" + Twine(fileSize) +
                  " bytes)");
    auto file = MemoryBuffer::getFileSlice(path, length, offset);
    if (!file)
      return fail("tensor '" + what + "': cannot read " + Twine(length) +
                  " bytes at offset " + Twine(offset) + " of " + path + ": " +
                  file.getError().message());
    if ((*file)->getBufferSize() != length)
      return fail("tensor '" + what + "': external data runs past the end of " +
                  path);
    if (t.isFloat()) t.f.resize(n); else t.i.resize(n);
    decodeRaw((*file)->getBufferStart(), n, t);
    return t;
  }

  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != bytes)
      return fail("tensor '" + what + "' has " +
                  Twine(proto.raw_data().size()) + " bytes of raw data for " +
                  Twine(n) + " elements");
    if (t.isFloat()) t.f.resize(n); else t.i.resize(n);
    decodeRaw(proto.raw_data().data(), n, t);
    return t;
  }

  int64_t have;
  switch (*dtype) {
  case DType::F32: have = proto.float_data_size(); break;
  case DType::F64: have = proto.double_data_size(); break;
  case DType::I64: have = proto.int64_data_size(); break;
  default: have = proto.int32_data_size(); break; // f16/bf16 bits, small ints
  }
  if ((uint64_t)have != n)
    return fail("tensor '" + what + "' has " + Twine(have) + " values for " +
                Twine(n) + " elements");
  switch (*dtype) {
  case DType::F32:
    t.f.assign(proto.float_data().begin(), proto.float_data().end());
    break;
  case DType::F64:
    for (double d : proto.double_data())
      t.f.push_back((float)d);
    break;
  case DType::F16:
  case DType::BF16:
    // Stored one per int32, as raw 16-bit patterns.
    for (int32_t bits : proto.int32_data()) {
      if (*dtype == DType::F16) {
        t.f.push_back(halfBitsToFloat((uint16_t)bits));
      } else {
        uint32_t b = (uint32_t)(uint16_t)bits << 16;
        float f;
        std::memcpy(&f, &b, 4);
        t.f.push_back(f);
      }
    }
    break;
  case DType::I64:
    t.i.assign(proto.int64_data().begin(), proto.int64_data().end());
    break;
  default:
    t.i.assign(proto.int32_data().begin(), proto.int32_data().end());
    break;
  }
  return t;
}

namespace {
class ONNXWeights : public WeightSource {
public:
  Expected<Tensor> load(StringRef name) override {
    auto it = byName.find(name);
    if (it == byName.end())
      return fail(path + ": no initializer or Constant named '" + name + "'");
    return decodeTensorProto(*it->second, sys::path::parent_path(path), name);
  }

  std::string path;
  onnx::ModelProto model;
  StringMap<const onnx::TensorProto *> byName;
};
} // namespace

Expected<std::unique_ptr<WeightSource>>
mlir::tfx::openONNXWeights(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot open " + path + ": " + buffer.getError().message());
  auto source = std::make_unique<ONNXWeights>();
  source->path = path.str();
  if ((*buffer)->getBufferSize() > (size_t)INT_MAX ||
      !source->model.ParseFromArray((*buffer)->getBufferStart(),
                                    (int)(*buffer)->getBufferSize()))
    return fail("not a valid ONNX model: " + path);
  const onnx::GraphProto &graph = source->model.graph();
  for (const onnx::TensorProto &init : graph.initializer())
    source->byName[init.name()] = &init;
  for (const onnx::NodeProto &node : graph.node())
    if (node.op_type() == "Constant" && node.output_size() == 1)
      for (const onnx::AttributeProto &attr : node.attribute())
        if (attr.name() == "value" && attr.has_t())
          source->byName[node.output(0)] = &attr.t();
  return std::unique_ptr<WeightSource>(std::move(source));
}
