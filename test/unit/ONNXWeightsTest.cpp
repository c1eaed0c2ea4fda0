// The ONNX weight reader: every storage form of a TensorProto, Constant-node
// tensors by output name, and external data that is missing, escapes the
// model's folder or runs past the end of its file.
#include "tfx/Frontend/ONNXTensor.h"
#include "tfx/Support/WeightStore.h"

#include "onnx/onnx.pb.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mlir::tfx;

namespace {

std::string tempDir() {
  llvm::SmallString<128> dir;
  llvm::sys::fs::createUniqueDirectory("tfx-onnx-test", dir);
  return std::string(dir);
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  ASSERT_FALSE(ec) << ec.message();
  os << bytes;
}

std::string floatBytes(const std::vector<float> &values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

onnx::TensorProto *addInitializer(onnx::ModelProto &model, const std::string &name,
                                  int dataType, std::vector<int64_t> dims) {
  onnx::TensorProto *t = model.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(dataType);
  for (int64_t d : dims)
    t->add_dims(d);
  return t;
}

void setExternal(onnx::TensorProto *t, const std::string &location,
                 int64_t offset, int64_t length) {
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char *key, const std::string &value) {
    onnx::StringStringEntryProto *kv = t->add_external_data();
    kv->set_key(key);
    kv->set_value(value);
  };
  add("location", location);
  add("offset", std::to_string(offset));
  add("length", std::to_string(length));
}

/// Writes `model` into a fresh folder and opens it with the weight reader.
std::unique_ptr<WeightSource> open(const onnx::ModelProto &model,
                                   std::string *dirOut = nullptr) {
  std::string dir = dirOut && !dirOut->empty() ? *dirOut : tempDir();
  if (dirOut)
    *dirOut = dir;
  std::string path = dir + "/model.onnx";
  writeFile(path, model.SerializeAsString());
  auto source = openONNXWeights(path);
  EXPECT_TRUE((bool)source) << llvm::toString(source.takeError());
  return source ? std::move(*source) : nullptr;
}

std::string loadError(WeightSource &source, llvm::StringRef name) {
  auto t = source.load(name);
  if (t)
    return "";
  return llvm::toString(t.takeError());
}

TEST(ONNXWeights, RawDataFloat16AndBFloat16) {
  onnx::ModelProto model;
  addInitializer(model, "f32", onnx::TensorProto::FLOAT, {2, 2})
      ->set_raw_data(floatBytes({1.0f, -2.5f, 0.125f, 3.0f}));
  // 1.0, -2.0, 0.5 in IEEE half; 1.0, -2.0, 0.5 in bfloat16.
  const uint16_t half[] = {0x3c00, 0xc000, 0x3800};
  const uint16_t brain[] = {0x3f80, 0xc000, 0x3f00};
  addInitializer(model, "f16", onnx::TensorProto::FLOAT16, {3})
      ->set_raw_data(std::string((const char *)half, sizeof(half)));
  addInitializer(model, "bf16", onnx::TensorProto::BFLOAT16, {3})
      ->set_raw_data(std::string((const char *)brain, sizeof(brain)));
  auto source = open(model);
  ASSERT_TRUE(source);

  auto f32 = source->load("f32");
  ASSERT_TRUE((bool)f32) << llvm::toString(f32.takeError());
  EXPECT_EQ(f32->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(f32->f, (std::vector<float>{1.0f, -2.5f, 0.125f, 3.0f}));
  for (const char *name : {"f16", "bf16"}) {
    auto t = source->load(name);
    ASSERT_TRUE((bool)t) << llvm::toString(t.takeError());
    EXPECT_TRUE(t->isFloat()) << name;
    EXPECT_EQ(t->f, (std::vector<float>{1.0f, -2.0f, 0.5f})) << name;
  }
}

TEST(ONNXWeights, TypedFields) {
  onnx::ModelProto model;
  onnx::TensorProto *f = addInitializer(model, "floats", onnx::TensorProto::FLOAT, {3});
  for (float v : {0.5f, 1.5f, -4.0f})
    f->add_float_data(v);
  onnx::TensorProto *i64 = addInitializer(model, "i64", onnx::TensorProto::INT64, {2});
  i64->add_int64_data(-7);
  i64->add_int64_data(int64_t(1) << 40);
  onnx::TensorProto *i32 = addInitializer(model, "i32", onnx::TensorProto::INT32, {2});
  i32->add_int32_data(-3);
  i32->add_int32_data(9);
  // f16 in int32_data: one 16-bit pattern per entry.
  onnx::TensorProto *h = addInitializer(model, "half", onnx::TensorProto::FLOAT16, {2});
  h->add_int32_data(0x3c00);
  h->add_int32_data(0xbc00);
  auto source = open(model);
  ASSERT_TRUE(source);

  auto floats = source->load("floats");
  ASSERT_TRUE((bool)floats) << llvm::toString(floats.takeError());
  EXPECT_EQ(floats->f, (std::vector<float>{0.5f, 1.5f, -4.0f}));
  auto longs = source->load("i64");
  ASSERT_TRUE((bool)longs) << llvm::toString(longs.takeError());
  EXPECT_FALSE(longs->isFloat());
  EXPECT_EQ(longs->i, (std::vector<int64_t>{-7, int64_t(1) << 40}));
  auto ints = source->load("i32");
  ASSERT_TRUE((bool)ints) << llvm::toString(ints.takeError());
  EXPECT_EQ(ints->dtype, DType::I32);
  EXPECT_EQ(ints->i, (std::vector<int64_t>{-3, 9}));
  auto halves = source->load("half");
  ASSERT_TRUE((bool)halves) << llvm::toString(halves.takeError());
  EXPECT_EQ(halves->f, (std::vector<float>{1.0f, -1.0f}));
}

TEST(ONNXWeights, ConstantNodesByOutputName) {
  onnx::ModelProto model;
  onnx::NodeProto *node = model.mutable_graph()->add_node();
  node->set_op_type("Constant");
  node->set_name("const_node");
  node->add_output("table");
  onnx::AttributeProto *attr = node->add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  onnx::TensorProto *t = attr->mutable_t();
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->set_raw_data(floatBytes({7.0f, 8.0f}));
  auto source = open(model);
  ASSERT_TRUE(source);

  auto table = source->load("table");
  ASSERT_TRUE((bool)table) << llvm::toString(table.takeError());
  EXPECT_EQ(table->f, (std::vector<float>{7.0f, 8.0f}));
  // The node's own name is not a tensor name.
  EXPECT_NE(loadError(*source, "const_node").find("no initializer or Constant named 'const_node'"),
            std::string::npos);
}

TEST(ONNXWeights, MismatchedPayloads) {
  onnx::ModelProto model;
  addInitializer(model, "short_raw", onnx::TensorProto::FLOAT, {4})
      ->set_raw_data(floatBytes({1.0f}));
  addInitializer(model, "short_typed", onnx::TensorProto::INT64, {3})
      ->add_int64_data(1);
  addInitializer(model, "strings", onnx::TensorProto::STRING, {1})
      ->add_string_data("x");
  auto source = open(model);
  ASSERT_TRUE(source);
  EXPECT_NE(loadError(*source, "short_raw").find("4 bytes of raw data for 4 elements"),
            std::string::npos);
  EXPECT_NE(loadError(*source, "short_typed").find("1 values for 3 elements"),
            std::string::npos);
  EXPECT_NE(loadError(*source, "strings").find("unsupported ONNX element type"),
            std::string::npos);
}

TEST(ONNXWeights, ExternalData) {
  std::string dir = tempDir();
  // Two tensors in one file; the second starts at a non-page offset.
  std::string data = floatBytes({1, 2, 3, 4}) + floatBytes({5, 6, 7});
  writeFile(dir + "/weights.bin", data);
  onnx::ModelProto model;
  setExternal(addInitializer(model, "first", onnx::TensorProto::FLOAT, {2, 2}),
              "weights.bin", 0, 16);
  setExternal(addInitializer(model, "second", onnx::TensorProto::FLOAT, {3}),
              "weights.bin", 16, 12);
  // One element too many: the range ends 4 bytes past the end of the file.
  setExternal(addInitializer(model, "past_end", onnx::TensorProto::FLOAT, {4}),
              "weights.bin", 16, 16);
  setExternal(addInitializer(model, "far_offset", onnx::TensorProto::FLOAT, {1}),
              "weights.bin", 1 << 20, 4);
  setExternal(addInitializer(model, "wrong_length", onnx::TensorProto::FLOAT, {3}),
              "weights.bin", 0, 8);
  setExternal(addInitializer(model, "missing", onnx::TensorProto::FLOAT, {1}),
              "nowhere.bin", 0, 4);
  setExternal(addInitializer(model, "escapes", onnx::TensorProto::FLOAT, {1}),
              "../weights.bin", 0, 4);
  auto source = open(model, &dir);
  ASSERT_TRUE(source);

  auto first = source->load("first");
  ASSERT_TRUE((bool)first) << llvm::toString(first.takeError());
  EXPECT_EQ(first->f, (std::vector<float>{1, 2, 3, 4}));
  auto second = source->load("second");
  ASSERT_TRUE((bool)second) << llvm::toString(second.takeError());
  EXPECT_EQ(second->f, (std::vector<float>{5, 6, 7}));

  EXPECT_NE(loadError(*source, "past_end").find("lies outside"), std::string::npos);
  EXPECT_NE(loadError(*source, "far_offset").find("lies outside"), std::string::npos);
  EXPECT_NE(loadError(*source, "wrong_length").find("does not match its shape"),
            std::string::npos);
  EXPECT_NE(loadError(*source, "missing").find("cannot read external data"),
            std::string::npos);
  EXPECT_NE(loadError(*source, "escapes").find("bad external data location"),
            std::string::npos);
}

TEST(ONNXWeights, NotAModel) {
  std::string path = tempDir() + "/bad.onnx";
  writeFile(path, std::string("\xff\xff\xff\xff garbage", 12));
  auto source = openONNXWeights(path);
  ASSERT_FALSE((bool)source);
  EXPECT_NE(llvm::toString(source.takeError()).find("not a valid ONNX model"),
            std::string::npos);
  auto absent = openONNXWeights(path + ".absent");
  ASSERT_FALSE((bool)absent);
  EXPECT_NE(llvm::toString(absent.takeError()).find("cannot open"), std::string::npos);
}

} // namespace
