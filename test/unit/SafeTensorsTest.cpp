#include "tfx/Support/SafeTensors.h"
#include "tfx/Support/WeightStore.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mlir::tfx;

namespace {

std::string tempPath(const char *name) {
  llvm::SmallString<128> dir;
  llvm::sys::fs::createUniqueDirectory("tfx-st-test", dir);
  llvm::sys::path::append(dir, name);
  return std::string(dir);
}

/// A file from a header text and a data section, as the format lays it out.
std::unique_ptr<llvm::MemoryBuffer> makeFile(const std::string &header,
                                             const std::string &data,
                                             int64_t declaredLen = -1) {
  std::string bytes(8, '\0');
  uint64_t len = declaredLen < 0 ? header.size() : (uint64_t)declaredLen;
  std::memcpy(bytes.data(), &len, 8);
  bytes += header + data;
  return llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors");
}

std::string errorOf(std::unique_ptr<llvm::MemoryBuffer> buffer) {
  auto file = SafeTensorsFile::fromBuffer(std::move(buffer));
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

TEST(SafeTensors, RoundTripEveryDType) {
  std::map<std::string, Tensor> tensors;
  for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
    Tensor t = Tensor::floats({2, 3}, 0.0f, d);
    for (int k = 0; k < 6; ++k)
      t.f[k] = 0.5f * k - 1.0f; // exact in every float type
    tensors[dtypeName(d)] = t;
  }
  for (DType d : {DType::I64, DType::I32, DType::I8, DType::U8, DType::Bool}) {
    Tensor t = Tensor::ints({3}, 0, d);
    t.i = {1, 0, d == DType::I64 || d == DType::I32 || d == DType::I8 ? -1 : 1};
    tensors[dtypeName(d)] = t;
  }
  std::string path = tempPath("all.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(path, tensors, {{"format", "pt"}}));
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE((bool)file) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->metadata().at("format"), "pt");
  for (const auto &[name, expected] : tensors) {
    auto t = (*file)->read(name);
    ASSERT_TRUE((bool)t) << name;
    EXPECT_EQ(t->shape, expected.shape) << name;
    EXPECT_EQ(t->dtype, expected.dtype) << name;
    if (expected.isFloat())
      EXPECT_EQ(t->f, expected.f) << name;
    else
      EXPECT_EQ(t->i, expected.i) << name;
  }
  auto missing = (*file)->read("nope");
  ASSERT_FALSE((bool)missing);
  EXPECT_NE(llvm::toString(missing.takeError()).find("no tensor named 'nope'"),
            std::string::npos);
}

TEST(SafeTensors, WeightStoreTransposes) {
  Tensor t = Tensor::floats({2, 3});
  for (int k = 0; k < 6; ++k)
    t.f[k] = k;
  std::string path = tempPath("w.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(path, {{"w", t}}));
  auto w = loadWeight(path, "w", /*transposed=*/true);
  ASSERT_TRUE((bool)w);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(w->f, (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(SafeTensors, RejectsMalformedFiles) {
  const std::string okEntry =
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_EQ(errorOf(makeFile(okEntry, std::string(8, '\0'))), "");
  EXPECT_NE(errorOf(llvm::MemoryBuffer::getMemBufferCopy("abc", "t"))
                .find("shorter than the 8-byte header length"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(okEntry, std::string(8, '\0'), 1 << 20))
                .find("exceeds the file size"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile("{not json", "")).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(R"({"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}})",
                             "x"))
                .find("unsupported dtype 'Q7'"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(okEntry, std::string(4, '\0')))
                .find("lies outside"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                             std::string(8, '\0')))
                .find("8 bytes for 3 elements"),
            std::string::npos);
  EXPECT_NE(errorOf(makeFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             std::string(12, '\0')))
                .find("overlap"),
            std::string::npos);
  // A declared size far beyond the file is refused before any allocation.
  EXPECT_NE(errorOf(makeFile(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})",
                             std::string(8, '\0')))
                .find("too large"),
            std::string::npos);
}

} // namespace
