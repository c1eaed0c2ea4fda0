//===- ResourceWeights.cpp - weights held in MLIR resource blobs ----------===//

#include "tfx/Support/ResourceWeights.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The host dtype that holds elements of `elt` (floats as f32 storage,
/// integers as int64 storage).
static DType hostDType(Type elt) {
  if (elt.isF16())
    return DType::F16;
  if (elt.isBF16())
    return DType::BF16;
  if (elt.isF64())
    return DType::F64;
  if (isa<FloatType>(elt))
    return DType::F32;
  if (auto intType = dyn_cast<IntegerType>(elt)) {
    unsigned width = intType.getWidth();
    if (width == 1)
      return DType::Bool;
    if (width == 8)
      return intType.isUnsigned() ? DType::U8 : DType::I8;
    if (width <= 32)
      return DType::I32;
  }
  return DType::I64;
}

int64_t mlir::tfx::blobElementBytes(Type elementType) {
  if (elementType.isInteger(1))
    return 1;
  if (elementType.isIndex())
    return 8;
  return llvm::divideCeil(elementType.getIntOrFloatBitWidth(), 8);
}

static bool isSupported(Type elt) {
  if (auto floatType = dyn_cast<FloatType>(elt))
    return floatType.getWidth() % 8 == 0;
  if (auto intType = dyn_cast<IntegerType>(elt))
    return intType.getWidth() == 1 || intType.getWidth() == 4 ||
           (intType.getWidth() % 8 == 0 && intType.getWidth() <= 64);
  return elt.isIndex();
}

static std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

llvm::Expected<std::vector<char>> mlir::tfx::encodeTensor(const Tensor &t,
                                                          Type elt) {
  if (!isSupported(elt))
    return makeError("cannot store elements of type " + typeName(elt) +
                     " in a resource blob");
  int64_t count = t.numElements();
  if ((int64_t)(t.isFloat() ? t.f.size() : t.i.size()) != count)
    return makeError("tensor " + t.shapeString() + " holds " +
                     llvm::Twine(t.isFloat() ? t.f.size() : t.i.size()) +
                     " values");
  int64_t bytes = blobElementBytes(elt);
  std::vector<char> data(count * bytes);
  if (auto floatType = dyn_cast<FloatType>(elt)) {
    for (int64_t n = 0; n < count; ++n) {
      llvm::APFloat v(t.at(n));
      bool losesInfo;
      v.convert(floatType.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
      uint64_t raw = v.bitcastToAPInt().getZExtValue();
      raw = llvm::support::endian::byte_swap(raw, llvm::endianness::little);
      std::memcpy(data.data() + n * bytes, &raw, bytes);
    }
    return data;
  }
  unsigned width = elt.isIndex() ? 64 : elt.getIntOrFloatBitWidth();
  bool isUnsigned = elt.isUnsignedInteger();
  for (int64_t n = 0; n < count; ++n) {
    double value = t.at(n);
    int64_t v = t.isFloat() ? (int64_t)value : t.i[n];
    if (t.isFloat() && (double)v != value)
      return makeError("element " + llvm::Twine(n) + " (" +
                       std::to_string(value) + ") is not an integer");
    if (width == 1) {
      v = v != 0;
    } else if (width < 64) {
      int64_t lo = isUnsigned ? 0 : -(int64_t(1) << (width - 1));
      int64_t hi = isUnsigned ? (int64_t(1) << width) - 1
                              : (int64_t(1) << (width - 1)) - 1;
      if (v < lo || v > hi)
        return makeError("element " + llvm::Twine(n) + " (" + llvm::Twine(v) +
                         ") does not fit " + typeName(elt));
    }
    uint64_t raw = llvm::support::endian::byte_swap((uint64_t)v,
                                                    llvm::endianness::little);
    std::memcpy(data.data() + n * bytes, &raw, bytes); // the low bytes
  }
  return data;
}

llvm::Expected<Tensor> mlir::tfx::decodeTensor(llvm::ArrayRef<char> data,
                                               ShapedType type,
                                               llvm::StringRef what) {
  Type elt = type.getElementType();
  if (!type.hasStaticShape())
    return makeError(what + ": the type has no static shape");
  if (!isSupported(elt))
    return makeError(what + ": unsupported element type " + typeName(elt));
  Tensor t;
  t.dtype = hostDType(elt);
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  int64_t count = t.numElements(), bytes = blobElementBytes(elt);
  if ((int64_t)data.size() != count * bytes)
    return makeError(what + " holds " + llvm::Twine(data.size()) +
                     " bytes, expected " + llvm::Twine(count * bytes));
  auto rawAt = [&](int64_t n) {
    uint64_t raw = 0;
    std::memcpy(&raw, data.data() + n * bytes, bytes);
    return llvm::support::endian::byte_swap(raw, llvm::endianness::little);
  };
  if (auto floatType = dyn_cast<FloatType>(elt)) {
    unsigned bits = floatType.getWidth();
    t.f.resize(count);
    for (int64_t n = 0; n < count; ++n) {
      llvm::APFloat v(floatType.getFloatSemantics(), llvm::APInt(bits, rawAt(n)));
      bool losesInfo;
      v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
      t.f[n] = v.convertToFloat();
    }
    return t;
  }
  unsigned width = elt.isIndex() ? 64 : elt.getIntOrFloatBitWidth();
  bool isUnsigned = elt.isUnsignedInteger() || width == 1;
  t.i.resize(count);
  for (int64_t n = 0; n < count; ++n) {
    if (width == 4) {
      // One 4-bit integer per byte, sign- or zero-extended to the byte.
      int64_t v = isUnsigned ? (int64_t)(uint8_t)rawAt(n) : (int64_t)(int8_t)rawAt(n);
      if (v < (isUnsigned ? 0 : -8) || v > (isUnsigned ? 15 : 7))
        return makeError(what + ": element " + llvm::Twine(n) + " (" +
                         llvm::Twine(v) + ") does not fit " + typeName(elt));
      t.i[n] = v;
      continue;
    }
    llvm::APInt v(width == 1 ? 8 : width, rawAt(n));
    t.i[n] = width == 1     ? (v != 0)
             : isUnsigned ? (int64_t)v.getZExtValue()
                          : v.getSExtValue();
  }
  return t;
}

llvm::Expected<DenseResourceElementsAttr>
mlir::tfx::createResourceWeight(RankedTensorType type, const Tensor &t,
                                llvm::StringRef name) {
  if (!type.hasStaticShape() || type.getNumElements() != t.numElements())
    return makeError("weight '" + name + "': " + t.shapeString() +
                     " does not fit " + typeName(type));
  auto bytes = encodeTensor(t, type.getElementType());
  if (!bytes)
    return makeError("weight '" + name + "': " + llvm::toString(bytes.takeError()));
  std::string key;
  for (char c : name)
    key += llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_';
  if (key.empty() || llvm::isDigit(key[0]))
    key = "w_" + key;
  size_t align = std::max<size_t>(blobElementBytes(type.getElementType()), 1);
  return DenseResourceElementsAttr::get(
      type, key, HeapAsmResourceBlob::allocateAndCopyWithAlign(*bytes, align));
}

llvm::Expected<Tensor> mlir::tfx::tensorFromElements(ElementsAttr attr) {
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  if (!type || !type.hasStaticShape())
    return makeError("constant is not a statically shaped tensor");
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    llvm::StringRef key = resource.getRawHandle().getKey();
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return makeError("dense_resource '" + key + "' has no data");
    return decodeTensor(blob->getData(), type, "dense_resource '" + key.str() + "'");
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return makeError("unsupported constant attribute kind");
  Type elt = type.getElementType();
  Tensor t;
  t.dtype = hostDType(elt);
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  int64_t count = t.numElements();
  if (auto floatType = dyn_cast<FloatType>(elt)) {
    t.f.reserve(count);
    if (elt.isF32()) {
      llvm::append_range(t.f, dense.getValues<float>());
      return t;
    }
    for (llvm::APFloat v : dense.getValues<llvm::APFloat>()) {
      bool losesInfo;
      v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
                &losesInfo);
      t.f.push_back(v.convertToFloat());
    }
    return t;
  }
  if (!elt.isIntOrIndex())
    return makeError("unsupported constant element type " + typeName(elt));
  bool isUnsigned = elt.isUnsignedInteger() || elt.isInteger(1);
  t.i.reserve(count);
  for (const llvm::APInt &v : dense.getValues<llvm::APInt>())
    t.i.push_back(isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue());
  return t;
}
