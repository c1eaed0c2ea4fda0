//===- ResourceWeightsTest.cpp - weights in MLIR resource blobs -----------===//
//
// Encoding and decoding of every element type a blob may hold, the errors
// for values a type cannot hold, and a resource weight that survives
// printing and parsing and feeds the interpreter.
//
//===----------------------------------------------------------------------===//

#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/ResourceWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::tfx;

namespace {

class ResourceWeightsTest : public ::testing::Test {
protected:
  ResourceWeightsTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }
  MLIRContext ctx;
};

Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t = Tensor::floats(std::move(shape));
  t.f = std::move(values);
  return t;
}

Tensor ints(std::vector<int64_t> shape, std::vector<int64_t> values) {
  Tensor t = Tensor::ints(std::move(shape));
  t.i = std::move(values);
  return t;
}

TEST_F(ResourceWeightsTest, FloatTypesRoundTrip) {
  Tensor t = floats({2, 2}, {1.5f, -0.25f, 3.0f, 1e-3f});
  for (Type elt : {(Type)Float32Type::get(&ctx), (Type)Float16Type::get(&ctx),
                   (Type)BFloat16Type::get(&ctx), (Type)Float64Type::get(&ctx)}) {
    auto bytes = encodeTensor(t, elt);
    ASSERT_TRUE((bool)bytes);
    EXPECT_EQ((int64_t)bytes->size(), 4 * blobElementBytes(elt));
    auto back = decodeTensor(*bytes, RankedTensorType::get({2, 2}, elt), "t");
    ASSERT_TRUE((bool)back) << llvm::toString(back.takeError());
    ASSERT_EQ(back->f.size(), 4u);
    // 1e-3 is not exact in the 16-bit formats.
    double tol = elt.isF32() || elt.isF64() ? 0 : 1e-2;
    for (int n = 0; n < 4; ++n)
      EXPECT_NEAR(back->f[n], t.f[n], tol * std::fabs(t.f[n]));
  }
  // f32 is the IEEE encoding, little-endian.
  auto bytes = encodeTensor(floats({1}, {1.0f}), Float32Type::get(&ctx));
  ASSERT_TRUE((bool)bytes);
  EXPECT_EQ(std::vector<char>(bytes->begin(), bytes->end()),
            (std::vector<char>{0, 0, (char)0x80, 0x3f}));
}

TEST_F(ResourceWeightsTest, IntegerTypesRoundTripAndRange) {
  struct Case {
    Type type;
    std::vector<int64_t> values;
  } cases[] = {
      {IntegerType::get(&ctx, 8), {-128, 127, 0, -1}},
      {IntegerType::get(&ctx, 8, IntegerType::Unsigned), {0, 255, 7, 128}},
      {IntegerType::get(&ctx, 16), {-32768, 32767, 5, -5}},
      {IntegerType::get(&ctx, 32), {INT32_MIN, INT32_MAX, 1, 2}},
      {IntegerType::get(&ctx, 64), {INT64_MIN, INT64_MAX, 3, 4}},
      {IntegerType::get(&ctx, 1), {0, 1, 1, 0}},
  };
  for (const Case &c : cases) {
    auto bytes = encodeTensor(ints({4}, c.values), c.type);
    ASSERT_TRUE((bool)bytes);
    auto back = decodeTensor(*bytes, RankedTensorType::get({4}, c.type), "t");
    ASSERT_TRUE((bool)back);
    EXPECT_EQ(back->i, c.values);
  }
  auto tooBig = encodeTensor(ints({1}, {128}), IntegerType::get(&ctx, 8));
  ASSERT_FALSE((bool)tooBig);
  EXPECT_NE(llvm::toString(tooBig.takeError()).find("does not fit"), std::string::npos);
  auto negative = encodeTensor(ints({1}, {-1}),
                               IntegerType::get(&ctx, 8, IntegerType::Unsigned));
  EXPECT_FALSE((bool)negative);
  llvm::consumeError(negative.takeError());
  auto fraction = encodeTensor(floats({1}, {0.5f}), IntegerType::get(&ctx, 32));
  EXPECT_FALSE((bool)fraction);
  llvm::consumeError(fraction.takeError());
}

TEST_F(ResourceWeightsTest, Int4TakesOneByteEach) {
  Type i4 = IntegerType::get(&ctx, 4);
  auto bytes = encodeTensor(ints({4}, {-8, 7, 0, -1}), i4);
  ASSERT_TRUE((bool)bytes);
  EXPECT_EQ(std::vector<char>(bytes->begin(), bytes->end()),
            (std::vector<char>{(char)0xf8, 7, 0, (char)0xff}));
  auto back = decodeTensor(*bytes, RankedTensorType::get({4}, i4), "q");
  ASSERT_TRUE((bool)back);
  EXPECT_EQ(back->i, (std::vector<int64_t>{-8, 7, 0, -1}));
  auto tooBig = encodeTensor(ints({1}, {8}), i4);
  ASSERT_FALSE((bool)tooBig);
  EXPECT_NE(llvm::toString(tooBig.takeError()).find("does not fit"), std::string::npos);
  // A byte outside [-8, 7] is corrupt data, not a value.
  std::vector<char> corrupt = {0x10};
  auto bad = decodeTensor(corrupt, RankedTensorType::get({1}, i4), "blob 'q'");
  ASSERT_FALSE((bool)bad);
  EXPECT_EQ(llvm::toString(bad.takeError()),
            "blob 'q': element 0 (16) does not fit i4");
}

TEST_F(ResourceWeightsTest, DecodeRejectsWrongSize) {
  std::vector<char> three(3);
  auto t = decodeTensor(three, RankedTensorType::get({1}, Float32Type::get(&ctx)),
                        "blob 'w'");
  ASSERT_FALSE((bool)t);
  EXPECT_EQ(llvm::toString(t.takeError()), "blob 'w' holds 3 bytes, expected 4");
}

TEST_F(ResourceWeightsTest, SurvivesPrintAndParseAndRuns) {
  auto type = RankedTensorType::get({2, 3}, Float32Type::get(&ctx));
  Tensor w = floats({2, 3}, {1, 2, 3, -1, 0.5f, 0.25f});
  auto attr = createResourceWeight(type, w, "layer.0/fc weight");
  ASSERT_TRUE((bool)attr);
  // Characters a key cannot hold become '_'; dots stay.
  EXPECT_EQ(attr->getRawHandle().getKey(), "layer.0_fc_weight");

  // Print a module using it, parse the text in a fresh context and run it.
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(R"(
    func.func @main(%x: tensor<1x3xf32>, %w: tensor<2x3xf32>) -> tensor<1x2xf32> {
      %0 = tfx.linear %x, %w : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
      return %0 : tensor<1x2xf32>
    })",
                                                             &ctx);
  ASSERT_TRUE(module);
  auto func = *module->getOps<func::FuncOp>().begin();
  OpBuilder b(func.getBody());
  Value c = arith::ConstantOp::create(b, func.getLoc(), type, *attr);
  func.getArgument(1).replaceAllUsesWith(c);
  ASSERT_TRUE(succeeded(func.eraseArgument(1)));
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  EXPECT_NE(text.find("dense_resource<layer.0_fc_weight>"), std::string::npos) << text;

  MLIRContext other;
  DialectRegistry registry;
  registerTfxDialects(registry);
  other.appendDialectRegistry(registry);
  other.loadAllAvailableDialects();
  auto reparsed = parseSourceString<ModuleOp>(text, &other);
  ASSERT_TRUE(reparsed) << text;
  auto out = runFunction(*reparsed, {{"arg0", floats({1, 3}, {1, 1, 2})}});
  ASSERT_TRUE((bool)out) << llvm::toString(out.takeError());
  const Tensor &y = out->at("result0");
  EXPECT_EQ(y.f, (std::vector<float>{9.0f, 0.0f}));
}

} // namespace
