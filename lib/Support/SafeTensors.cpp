//===- SafeTensors.cpp - read and write .safetensors files ----------------===//
//
// Every field of the header is validated before any tensor byte is touched,
// so a hostile file cannot make the reader allocate or read out of bounds.
//
//===----------------------------------------------------------------------===//

#include "tfx/Support/SafeTensors.h"
#include "tfx/Support/Json.h"
#include "tfx/Support/WeightStore.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <limits>

using namespace llvm;
using namespace mlir::tfx;

namespace {

/// Header JSON larger than this is refused (the format's own limit is 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeName {
  const char *name;
  DType dtype;
  unsigned bytes;
};
constexpr DTypeName kDTypes[] = {
    {"F32", DType::F32, 4}, {"F16", DType::F16, 2}, {"BF16", DType::BF16, 2},
    {"F64", DType::F64, 8}, {"I64", DType::I64, 8}, {"I32", DType::I32, 4},
    {"I8", DType::I8, 1},   {"U8", DType::U8, 1},   {"BOOL", DType::Bool, 1},
};

const DTypeName *lookupDType(StringRef name) {
  for (const DTypeName &d : kDTypes)
    if (name == d.name)
      return &d;
  return nullptr;
}

const DTypeName &dtypeInfo(DType dtype) {
  for (const DTypeName &d : kDTypes)
    if (d.dtype == dtype)
      return d;
  return kDTypes[0];
}

Error fail(StringRef file, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(),
                           file + ": invalid safetensors file: " + msg);
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  int32_t exp = (int32_t)((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff) // inf / nan
    return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31)
    return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10)
      return sign;
    mant |= 0x800000;
    uint32_t shift = 14 - exp;
    uint32_t half = mant >> shift;
    uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1)))
      ++half;
    return sign | half;
  }
  uint32_t half = sign | ((uint32_t)exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is the right rounding
  return half;
}

uint16_t floatToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return (bits >> 16) | 0x40; // quiet NaN
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return (bits + rounding) >> 16;
}

} // namespace

Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path, /*IsText=*/false,
                                      /*RequiresNullTerminator=*/false);
  if (!buffer)
    return createStringError(buffer.getError(),
                             "cannot open " + path + ": " +
                                 buffer.getError().message());
  return fromBuffer(std::move(*buffer));
}

Expected<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::fromBuffer(std::unique_ptr<MemoryBuffer> buffer) {
  auto file = std::unique_ptr<SafeTensorsFile>(new SafeTensorsFile());
  file->filePath = buffer->getBufferIdentifier().str();
  StringRef name = file->filePath;
  StringRef bytes = buffer->getBuffer();
  if (bytes.size() < 8)
    return fail(name, "file is " + Twine(bytes.size()) +
                          " bytes, shorter than the 8-byte header length");
  uint64_t headerLen = support::endian::read64le(bytes.data());
  if (headerLen > kMaxHeaderBytes || headerLen > bytes.size() - 8)
    return fail(name, "header length " + Twine(headerLen) +
                          " exceeds the file size " + Twine(bytes.size()));
  StringRef headerText = bytes.substr(8, headerLen);
  Expected<json::Value> parsed = parseJson(headerText);
  if (!parsed)
    return fail(name, "header is not valid JSON: " +
                          toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return fail(name, "header is not a JSON object");
  file->dataStart = 8 + headerLen;
  uint64_t dataSize = bytes.size() - file->dataStart;

  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto &[key, value] : *root) {
    std::string tensorName = key.str();
    if (tensorName == "__metadata__") {
      const json::Object *meta = value.getAsObject();
      if (!meta)
        return fail(name, "__metadata__ is not an object");
      for (const auto &[mk, mv] : *meta) {
        std::optional<StringRef> s = mv.getAsString();
        if (!s)
          return fail(name, "__metadata__ entry '" + mk.str() +
                                "' is not a string");
        file->meta[mk.str()] = s->str();
      }
      continue;
    }
    const json::Object *entry = value.getAsObject();
    if (!entry)
      return fail(name, "entry '" + tensorName + "' is not an object");
    std::optional<StringRef> dtypeName = entry->getString("dtype");
    if (!dtypeName)
      return fail(name, "tensor '" + tensorName + "' has no dtype");
    const DTypeName *dtype = lookupDType(*dtypeName);
    if (!dtype)
      return fail(name, "tensor '" + tensorName + "' has unsupported dtype '" +
                            *dtypeName + "'");
    const json::Array *shape = entry->getArray("shape");
    const json::Array *offsets = entry->getArray("data_offsets");
    if (!shape || !offsets || offsets->size() != 2)
      return fail(name, "tensor '" + tensorName +
                            "' needs a shape and two data_offsets");
    SafeTensorInfo info;
    info.name = tensorName;
    info.dtype = dtype->dtype;
    for (const json::Value &d : *shape) {
      std::optional<int64_t> dim = d.getAsInteger();
      if (!dim || *dim < 0)
        return fail(name, "tensor '" + tensorName + "' has a bad dimension");
      info.shape.push_back(*dim);
    }
    int64_t count = checkedElementCount(info.shape);
    if (count < 0) {
      std::string dims;
      for (int64_t d : info.shape)
        dims += (dims.empty() ? "" : ",") + std::to_string(d);
      return fail(name, "tensor '" + tensorName + "' has shape [" + dims +
                            "], more than 2^40 elements");
    }
    uint64_t elements = (uint64_t)count;
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin)
      return fail(name, "tensor '" + tensorName + "' has bad data_offsets");
    info.begin = *begin;
    info.end = *end;
    if (info.end > dataSize)
      return fail(name, "tensor '" + tensorName + "' data [" +
                            Twine(info.begin) + ", " + Twine(info.end) +
                            ") lies outside the " + Twine(dataSize) +
                            "-byte data section");
    if (info.end - info.begin != elements * dtype->bytes)
      return fail(name, "tensor '" + tensorName + "' has " +
                            Twine(info.end - info.begin) + " bytes for " +
                            Twine(elements) + " elements of " + *dtypeName);
    if (info.end > info.begin)
      ranges.push_back({info.begin, info.end});
    file->infos[tensorName] = std::move(info);
  }
  llvm::sort(ranges);
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      return fail(name, "tensor data ranges overlap at byte " +
                            Twine(ranges[i].first));
  file->buffer = std::move(buffer);
  return file;
}

const SafeTensorInfo *SafeTensorsFile::find(StringRef tensorName) const {
  auto it = infos.find(tensorName.str());
  return it == infos.end() ? nullptr : &it->second;
}

StringRef SafeTensorsFile::rawData(const SafeTensorInfo &info) const {
  return buffer->getBuffer().substr(dataStart + info.begin,
                                    info.end - info.begin);
}

Expected<Tensor> SafeTensorsFile::read(StringRef tensorName) const {
  const SafeTensorInfo *info = find(tensorName);
  if (!info)
    return createStringError(inconvertibleErrorCode(),
                             filePath + ": no tensor named '" + tensorName +
                                 "'");
  StringRef raw = rawData(*info);
  const char *p = raw.data();
  Tensor t;
  t.dtype = info->dtype;
  t.shape = info->shape;
  int64_t n = t.numElements();
  using namespace support::endian;
  switch (info->dtype) {
  case DType::F32:
    t.f.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      uint32_t bits = read32le(p + 4 * k);
      std::memcpy(&t.f[k], &bits, 4);
    }
    break;
  case DType::F64:
    t.f.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      uint64_t bits = read64le(p + 8 * k);
      double d;
      std::memcpy(&d, &bits, 8);
      t.f[k] = (float)d;
    }
    break;
  case DType::F16:
    t.f.resize(n);
    for (int64_t k = 0; k < n; ++k)
      t.f[k] = halfToFloat(read16le(p + 2 * k));
    break;
  case DType::BF16:
    t.f.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      uint32_t bits = (uint32_t)read16le(p + 2 * k) << 16;
      std::memcpy(&t.f[k], &bits, 4);
    }
    break;
  case DType::I64:
    t.i.resize(n);
    for (int64_t k = 0; k < n; ++k)
      t.i[k] = (int64_t)read64le(p + 8 * k);
    break;
  case DType::I32:
    t.i.resize(n);
    for (int64_t k = 0; k < n; ++k)
      t.i[k] = (int32_t)read32le(p + 4 * k);
    break;
  case DType::I8:
    t.i.resize(n);
    for (int64_t k = 0; k < n; ++k)
      t.i[k] = (int8_t)p[k];
    break;
  case DType::U8:
  case DType::Bool:
    t.i.resize(n);
    for (int64_t k = 0; k < n; ++k)
      t.i[k] = (uint8_t)p[k];
    break;
  }
  return t;
}

static void appendEncoded(std::string &out, const Tensor &t) {
  auto put = [&](const void *src, size_t bytes) {
    out.append(static_cast<const char *>(src), bytes);
  };
  int64_t n = t.numElements();
  for (int64_t k = 0; k < n; ++k) {
    switch (t.dtype) {
    case DType::F32: {
      float v = t.f[k];
      put(&v, 4);
      break;
    }
    case DType::F64: {
      double v = t.f[k];
      put(&v, 8);
      break;
    }
    case DType::F16: {
      uint16_t v = floatToHalf(t.f[k]);
      put(&v, 2);
      break;
    }
    case DType::BF16: {
      uint16_t v = floatToBF16(t.f[k]);
      put(&v, 2);
      break;
    }
    case DType::I64: {
      int64_t v = t.i[k];
      put(&v, 8);
      break;
    }
    case DType::I32: {
      int32_t v = (int32_t)t.i[k];
      put(&v, 4);
      break;
    }
    case DType::I8:
    case DType::U8:
    case DType::Bool: {
      uint8_t v = (uint8_t)t.i[k];
      put(&v, 1);
      break;
    }
    }
  }
}

Error mlir::tfx::writeSafeTensors(
    StringRef path, const std::map<std::string, Tensor> &tensors,
    const std::map<std::string, std::string> &metadata) {
  // Little-endian hosts only (x86-64, AArch64): data is written as in memory.
  json::Object header;
  std::string data;
  for (const auto &[tensorName, t] : tensors) {
    bool isFloat = t.isFloat();
    if ((isFloat && (int64_t)t.f.size() != t.numElements()) ||
        (!isFloat && (int64_t)t.i.size() != t.numElements()))
      return createStringError(inconvertibleErrorCode(),
                               "tensor '" + tensorName + "' has " +
                                   "a data size that does not match its shape " +
                                   t.shapeString());
    uint64_t begin = data.size();
    appendEncoded(data, t);
    json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    header[tensorName] = json::Object{
        {"dtype", dtypeInfo(t.dtype).name},
        {"shape", std::move(shape)},
        {"data_offsets", json::Array{(int64_t)begin, (int64_t)data.size()}}};
  }
  if (!metadata.empty()) {
    json::Object meta;
    for (const auto &[k, v] : metadata)
      meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::string headerText;
  raw_string_ostream(headerText) << json::Value(std::move(header));
  while (headerText.size() % 8 != 0)
    headerText.push_back(' ');

  // Write beside the destination, then rename: a failure leaves nothing.
  SmallString<256> tmpPath;
  int fd;
  SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  if (std::error_code ec = sys::fs::createUniqueFile(model, fd, tmpPath))
    return createStringError(ec, "cannot create a file beside " + path + ": " +
                                     ec.message());
  {
    raw_fd_ostream os(fd, /*shouldClose=*/true);
    char len[8];
    support::endian::write64le(len, headerText.size());
    os.write(len, 8);
    os << headerText;
    os << data;
    os.close();
    if (os.has_error()) {
      std::string msg = os.error().message();
      os.clear_error();
      sys::fs::remove(tmpPath);
      return createStringError(inconvertibleErrorCode(),
                               "cannot write " + path + ": " + msg);
    }
  }
  if (std::error_code ec = sys::fs::rename(tmpPath, path)) {
    sys::fs::remove(tmpPath);
    return createStringError(ec, "cannot write " + path + ": " + ec.message());
  }
  return Error::success();
}

namespace {
class SafeTensorsWeights : public WeightSource {
public:
  explicit SafeTensorsWeights(std::unique_ptr<SafeTensorsFile> file)
      : file(std::move(file)) {}
  Expected<Tensor> load(StringRef name) override { return file->read(name); }

private:
  std::unique_ptr<SafeTensorsFile> file;
};
} // namespace

Expected<std::unique_ptr<WeightSource>>
mlir::tfx::openSafeTensorsWeights(StringRef path) {
  auto file = SafeTensorsFile::open(path);
  if (!file)
    return file.takeError();
  return std::make_unique<SafeTensorsWeights>(std::move(*file));
}
