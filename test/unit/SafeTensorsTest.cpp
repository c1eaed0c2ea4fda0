#include "tfx/Support/SafeTensors.h"
#include "tfx/Support/WeightStore.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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
                .find("more than 2^40 elements"),
            std::string::npos);
}

/// Every entry of `dir`, by file name.
std::vector<std::string> listDir(llvm::StringRef dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SafeTensors, HalfAndBFloatWidenExactly) {
  // Bit patterns at the edges of f16 and bf16, decoded from a hand-made file.
  const uint16_t halfBits[] = {0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff,
                               0x8000, 0xfc00, 0x7c00, 0x7e00};
  const uint16_t bf16Bits[] = {0x0001, 0x3f80, 0xc2f7, 0x7f7f, 0xff80};
  std::string data(reinterpret_cast<const char *>(halfBits), sizeof(halfBits));
  data.append(reinterpret_cast<const char *>(bf16Bits), sizeof(bf16Bits));
  std::string header =
      R"({"h":{"dtype":"F16","shape":[9],"data_offsets":[0,18]},)"
      R"("b":{"dtype":"BF16","shape":[5],"data_offsets":[18,28]}})";
  auto file = SafeTensorsFile::fromBuffer(makeFile(header, data));
  ASSERT_TRUE((bool)file) << llvm::toString(file.takeError());
  auto h = (*file)->read("h");
  ASSERT_TRUE((bool)h);
  EXPECT_EQ(h->dtype, DType::F16);
  EXPECT_EQ(h->f[0], std::ldexp(1.0f, -24));        // smallest subnormal
  EXPECT_EQ(h->f[1], std::ldexp(1023.0f, -24));     // largest subnormal
  EXPECT_EQ(h->f[2], std::ldexp(1.0f, -14));        // smallest normal
  EXPECT_EQ(h->f[3], 1.0f);
  EXPECT_EQ(h->f[4], 65504.0f);                     // largest finite
  EXPECT_TRUE(h->f[5] == 0.0f && std::signbit(h->f[5]));
  EXPECT_EQ(h->f[6], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(h->f[7], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(h->f[8]));
  auto b = (*file)->read("b");
  ASSERT_TRUE((bool)b);
  EXPECT_EQ(b->f[0], std::ldexp(1.0f, -133));
  EXPECT_EQ(b->f[1], 1.0f);
  EXPECT_EQ(b->f[2], -123.5f);
  EXPECT_EQ(b->f[3], std::ldexp(255.0f, 120)); // largest finite bf16
  EXPECT_EQ(b->f[4], -std::numeric_limits<float>::infinity());
}

TEST(SafeTensors, WriterRoundsToNearestEven) {
  Tensor t = Tensor::floats({4}, 0.0f, DType::F16);
  // Ties go to the even neighbour; past the largest finite half is infinity.
  t.f = {1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11),
         70000.0f, std::ldexp(1.0f, -25) * 3};
  Tensor bf = Tensor::floats({2}, 0.0f, DType::BF16);
  bf.f = {1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8)};
  std::string path = tempPath("round.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(path, {{"h", t}, {"b", bf}}));
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE((bool)file);
  auto h = (*file)->read("h");
  ASSERT_TRUE((bool)h);
  EXPECT_EQ(h->f[0], 1.0f);
  EXPECT_EQ(h->f[1], 1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(h->f[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(h->f[3], std::ldexp(1.0f, -23)); // 1.5 subnormal units -> 2
  auto b = (*file)->read("b");
  ASSERT_TRUE((bool)b);
  EXPECT_EQ(b->f[0], 1.0f);
  EXPECT_EQ(b->f[1], 1.0f + std::ldexp(1.0f, -6));
}

TEST(SafeTensors, WriterLayout) {
  std::map<std::string, Tensor> tensors;
  tensors["zeta"] = Tensor::floats({3}, 1.0f);
  tensors["alpha"] = Tensor::ints({1}, 7, DType::I8);
  tensors["mid"] = Tensor::floats({0, 4});
  std::string path = tempPath("layout.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(path, tensors, {{"k", "v"}}));
  auto bytes = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE((bool)bytes);
  llvm::StringRef text = (*bytes)->getBuffer();
  uint64_t len;
  std::memcpy(&len, text.data(), 8);
  EXPECT_EQ(len % 8, 0u);
  EXPECT_EQ(text.size(), 8 + len + 3 * 4 + 1);
  llvm::StringRef header = text.substr(8, len);
  // Keys in sorted order, data in the same order.
  size_t a = header.find("\"alpha\""), m = header.find("\"mid\""),
         z = header.find("\"zeta\"");
  ASSERT_NE(a, llvm::StringRef::npos);
  EXPECT_LT(a, m);
  EXPECT_LT(m, z);
  EXPECT_NE(header.find(R"("data_offsets":[0,1])"), llvm::StringRef::npos) << header.str();
  EXPECT_NE(header.find(R"("data_offsets":[1,13])"), llvm::StringRef::npos) << header.str();
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE((bool)file);
  EXPECT_EQ((*file)->find("mid")->shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ((*file)->read("alpha")->i, (std::vector<int64_t>{7}));
}

TEST(SafeTensors, FailedWritesLeaveNothing) {
  std::string path = tempPath("out.safetensors");
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  Tensor bad = Tensor::floats({2, 2});
  bad.f.resize(3);
  llvm::Error err = writeSafeTensors(path, {{"bad", bad}});
  ASSERT_TRUE((bool)err);
  EXPECT_NE(llvm::toString(std::move(err)).find("tensor 'bad'"), std::string::npos);
  EXPECT_TRUE(listDir(dir).empty());

  // The destination is a folder: the rename fails, the temporary goes.
  ASSERT_FALSE(llvm::sys::fs::create_directory(path));
  err = writeSafeTensors(path, {{"x", Tensor::floats({1})}});
  ASSERT_TRUE((bool)err);
  EXPECT_NE(llvm::toString(std::move(err)).find(path), std::string::npos);
  EXPECT_EQ(listDir(dir), (std::vector<std::string>{"out.safetensors"}));

  err = writeSafeTensors((dir + "/no/such/dir/x.safetensors").str(),
                         {{"x", Tensor::floats({1})}});
  ASSERT_TRUE((bool)err);
  llvm::consumeError(std::move(err));

  // An existing file is replaced whole.
  std::string good = tempPath("good.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(good, {{"x", Tensor::floats({100})}}));
  ASSERT_FALSE((bool)writeSafeTensors(good, {{"y", Tensor::floats({1}, 2.0f)}}));
  auto file = SafeTensorsFile::open(good);
  ASSERT_TRUE((bool)file);
  EXPECT_EQ((*file)->tensors().size(), 1u);
  EXPECT_EQ((*file)->read("y")->f, (std::vector<float>{2.0f}));
}

TEST(SafeTensors, RejectsBadEntries) {
  auto err = [](const std::string &header, size_t dataBytes = 8) {
    return errorOf(makeFile(header, std::string(dataBytes, '\0')));
  };
  struct Case {
    std::string header, message;
  } cases[] = {
      {R"([1,2])", "header is not a JSON object"},
      {R"({"t":3})", "entry 't' is not an object"},
      {R"({"t":{"shape":[2],"data_offsets":[0,8]}})", "tensor 't' has no dtype"},
      {R"({"t":{"dtype":"F32","data_offsets":[0,8]}})",
       "tensor 't' needs a shape and two data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
       "tensor 't' needs a shape and two data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
       "tensor 't' has a bad dimension"},
      {R"({"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})",
       "tensor 't' has a bad dimension"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
       "tensor 't' has bad data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})",
       "tensor 't' has bad data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})",
       "tensor 't' has bad data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       "tensor 't' data [4, 12) lies outside the 8-byte data section"},
      {R"({"t":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})",
       "tensor 't' has unsupported dtype 'f32'"},
      {R"({"__metadata__":{"n":1}})", "__metadata__ entry 'n' is not a string"},
      {R"({"__metadata__":[]})", "__metadata__ is not an object"},
      // 2^62 * 2^2 elements of 4 bytes: the product overflows before any use.
      {R"({"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})",
       "tensor 't' has shape [4611686018427387904,4], more than 2^40 elements"},
      {R"({"t":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})",
       "tensor 't' has shape [1099511627776,1099511627776], more than 2^40 elements"},
      // 2^40 + 1 elements: over the limit even if a file could hold them.
      {R"({"t":{"dtype":"U8","shape":[1099511627777],"data_offsets":[0,8]}})",
       "tensor 't' has shape [1099511627777], more than 2^40 elements"},
  };
  for (const Case &c : cases) {
    std::string message = err(c.header);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "header: " << c.header << "\ngot: " << message;
    EXPECT_NE(message.find("test.safetensors: invalid safetensors file"),
              std::string::npos)
        << message;
  }
  // Zero-sized tensors may share an offset; touching ranges do not overlap.
  EXPECT_EQ(err(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                R"("b":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}})"),
            "");
  // A header length that is absurd but within 64 bits.
  EXPECT_NE(errorOf(makeFile("{}", "", std::numeric_limits<int64_t>::max()))
                .find("exceeds the file size"),
            std::string::npos);
}

/// Keeps the first `size` bytes of `path`.
void truncateFile(const std::string &path, uint64_t size) {
  auto bytes = llvm::MemoryBuffer::getFile(path);
  ASSERT_TRUE((bool)bytes);
  std::string prefix = (*bytes)->getBuffer().take_front(size).str();
  bytes->reset();
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  ASSERT_FALSE(ec);
  os << prefix;
}

TEST(SafeTensors, TruncatedFileOnDisk) {
  std::string path = tempPath("trunc.safetensors");
  ASSERT_FALSE((bool)writeSafeTensors(
      path, {{"a", Tensor::floats({16})}, {"b", Tensor::floats({16})}}));
  uint64_t size;
  ASSERT_FALSE(llvm::sys::fs::file_size(path, size));
  truncateFile(path, size - 4);
  auto file = SafeTensorsFile::open(path);
  ASSERT_FALSE((bool)file);
  std::string message = llvm::toString(file.takeError());
  EXPECT_NE(message.find(path + ": invalid safetensors file: tensor 'b' data "
                                "[64, 128) lies outside the 124-byte data section"),
            std::string::npos)
      << message;
  // Cut inside the header.
  truncateFile(path, 20);
  file = SafeTensorsFile::open(path);
  ASSERT_FALSE((bool)file);
  EXPECT_NE(llvm::toString(file.takeError()).find("exceeds the file size 20"),
            std::string::npos);
  auto missing = SafeTensorsFile::open(path + ".absent");
  ASSERT_FALSE((bool)missing);
  EXPECT_NE(llvm::toString(missing.takeError()).find("cannot open " + path),
            std::string::npos);
}

TEST(WeightStore, CachesPerAbsolutePathAndNamesErrors) {
  std::string path = tempPath("store.safetensors");
  Tensor t = Tensor::floats({2, 3}, 0.5f, DType::BF16);
  ASSERT_FALSE((bool)writeSafeTensors(path, {{"w", t}, {"v", Tensor::floats({4})}}));
  auto first = openWeightSource(path);
  ASSERT_TRUE((bool)first);
  // The same file through a relative path is the same source.
  llvm::SmallString<256> cwd;
  ASSERT_FALSE(llvm::sys::fs::current_path(cwd));
  ASSERT_FALSE(llvm::sys::fs::set_current_path(llvm::sys::path::parent_path(path)));
  auto relative = openWeightSource("store.safetensors");
  ASSERT_FALSE(llvm::sys::fs::set_current_path(cwd));
  ASSERT_TRUE((bool)relative);
  EXPECT_EQ(*first, *relative);

  auto w = loadWeight(path, "w", /*transposed=*/false);
  ASSERT_TRUE((bool)w);
  EXPECT_EQ(w->dtype, DType::BF16);
  EXPECT_EQ(w->f, std::vector<float>(6, 0.5f));

  auto missing = loadWeight(path, "nope", false);
  ASSERT_FALSE((bool)missing);
  std::string message = llvm::toString(missing.takeError());
  EXPECT_NE(message.find("no tensor named 'nope'"), std::string::npos) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;

  auto oneD = loadWeight(path, "v", /*transposed=*/true);
  ASSERT_FALSE((bool)oneD);
  EXPECT_NE(llvm::toString(oneD.takeError()).find("is read transposed but has shape"),
            std::string::npos);

  auto unknown = openWeightSource(tempPath("weights.bin"));
  ASSERT_FALSE((bool)unknown);
  EXPECT_NE(llvm::toString(unknown.takeError()).find("is neither .safetensors"),
            std::string::npos);
  auto absent = openWeightSource(tempPath("absent.safetensors"));
  ASSERT_FALSE((bool)absent);
  EXPECT_NE(llvm::toString(absent.takeError()).find("cannot open"), std::string::npos);
}

} // namespace
