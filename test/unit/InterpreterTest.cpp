//===- InterpreterTest.cpp - kernels of the reference interpreter ---------===//
//
// Each test parses a function whose first op is the op under test, evaluates
// it on hand-made operands and compares with hand-computed values or with a
// naive loop written independently of the kernel.
//
//===----------------------------------------------------------------------===//

#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::tfx;

namespace {

class InterpreterTest : public ::testing::Test {
protected:
  InterpreterTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(llvm::StringRef source) {
    auto module = parseSourceString<ModuleOp>(source, &ctx);
    EXPECT_TRUE(module) << source.str();
    return module;
  }

  /// Evaluates the first op of `func` in `source` on `operands`.
  llvm::Expected<Tensor> evalFirst(llvm::StringRef source,
                                   const std::vector<Tensor> &operands) {
    module = parse(source);
    if (!module)
      return llvm::createStringError("parse failed");
    auto func = *module->getOps<func::FuncOp>().begin();
    auto results = evaluateOp(&func.getBody().front().front(), operands);
    if (!results)
      return results.takeError();
    return std::move(results->front());
  }

  /// Like evalFirst, failing the test on error.
  Tensor eval(llvm::StringRef source, const std::vector<Tensor> &operands) {
    auto result = evalFirst(source, operands);
    if (!result) {
      ADD_FAILURE() << llvm::toString(result.takeError());
      return Tensor();
    }
    return std::move(*result);
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

Tensor floats(std::vector<int64_t> shape, std::vector<float> values) {
  Tensor t = Tensor::floats(std::move(shape));
  t.f = std::move(values);
  return t;
}

Tensor ints(std::vector<int64_t> shape, std::vector<int64_t> values,
            DType dtype = DType::I64) {
  Tensor t = Tensor::ints(std::move(shape), 0, dtype);
  t.i = std::move(values);
  return t;
}

Tensor randomFloats(std::vector<int64_t> shape, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t = Tensor::floats(std::move(shape));
  for (float &v : t.f)
    v = dist(gen);
  return t;
}

void expectNear(const Tensor &actual, const std::vector<float> &expected,
                float tolerance = 1e-5f) {
  ASSERT_EQ(actual.f.size(), expected.size());
  for (size_t n = 0; n < expected.size(); ++n)
    EXPECT_NEAR(actual.f[n], expected[n], tolerance) << "element " << n;
}

TEST_F(InterpreterTest, BroadcastingAdd) {
  Tensor r = eval(R"(
    func.func @main(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
      %0 = tfx.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })",
                  {floats({2, 3}, {1, 2, 3, 4, 5, 6}), floats({3}, {10, 20, 30})});
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2, 3}));
  expectNear(r, {11, 22, 33, 14, 25, 36});
}

TEST_F(InterpreterTest, BroadcastBothSidesAndIntegerDivisionTruncates) {
  Tensor r = eval(R"(
    func.func @main(%a: tensor<2x1xi64>, %b: tensor<1x3xi64>) -> tensor<2x3xi64> {
      %0 = tfx.div %a, %b : (tensor<2x1xi64>, tensor<1x3xi64>) -> tensor<2x3xi64>
      return %0 : tensor<2x3xi64>
    })",
                  {ints({2, 1}, {7, -7}), ints({1, 3}, {2, 3, -4})});
  EXPECT_EQ(r.i, (std::vector<int64_t>{3, 2, -1, -3, -2, 1}));
  EXPECT_EQ(r.dtype, DType::I64);
}

TEST_F(InterpreterTest, IntegerDivisionByZeroIsAnError) {
  auto r = evalFirst(R"(
    func.func @main(%a: tensor<2xi64>, %b: tensor<2xi64>) -> tensor<2xi64> {
      %0 = tfx.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
      return %0 : tensor<2xi64>
    })",
                     {ints({2}, {1, 2}), ints({2}, {1, 0})});
  ASSERT_FALSE(r);
  std::string message = llvm::toString(r.takeError());
  EXPECT_NE(message.find("'tfx.div'"), std::string::npos) << message;
  EXPECT_NE(message.find("division by zero"), std::string::npos) << message;
}

TEST_F(InterpreterTest, ComparisonGivesBool) {
  Tensor r = eval(R"(
    func.func @main(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<3xi1> {
      %0 = tfx.less %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
      return %0 : tensor<3xi1>
    })",
                  {floats({3}, {1, 5, 3}), floats({3}, {2, 4, 3})});
  EXPECT_EQ(r.dtype, DType::Bool);
  EXPECT_EQ(r.i, (std::vector<int64_t>{1, 0, 0}));
}

TEST_F(InterpreterTest, MatMulBatchedWithBroadcast) {
  // lhs [2,2,3] times rhs [3,2] (broadcast over the batch).
  Tensor r = eval(R"(
    func.func @main(%a: tensor<2x2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2x2xf32> {
      %0 = tfx.matmul %a, %b : (tensor<2x2x3xf32>, tensor<3x2xf32>) -> tensor<2x2x2xf32>
      return %0 : tensor<2x2x2xf32>
    })",
                  {floats({2, 2, 3}, {1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}),
                   floats({3, 2}, {1, 2, 3, 4, 5, 6})});
  expectNear(r, {22, 28, 49, 64, 1, 2, 3, 4});
}

TEST_F(InterpreterTest, MatMulVectorOperands) {
  Tensor r = eval(R"(
    func.func @main(%a: tensor<3xf32>, %b: tensor<3x2xf32>) -> tensor<2xf32> {
      %0 = tfx.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
      return %0 : tensor<2xf32>
    })",
                  {floats({3}, {1, 1, 1}), floats({3, 2}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(r.shape, (std::vector<int64_t>{2}));
  expectNear(r, {9, 12});
}

TEST_F(InterpreterTest, LinearWithBias) {
  Tensor r = eval(R"(
    func.func @main(%x: tensor<1x2x3xf32>, %w: tensor<2x3xf32>, %b: tensor<2xf32>) -> tensor<1x2x2xf32> {
      %0 = tfx.linear %x, %w, %b : (tensor<1x2x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<1x2x2xf32>
      return %0 : tensor<1x2x2xf32>
    })",
                  {floats({1, 2, 3}, {1, 2, 3, 4, 5, 6}),
                   floats({2, 3}, {1, 0, 0, 1, 1, 1}), floats({2}, {0.5, -1})});
  expectNear(r, {1.5, 5, 4.5, 14});
}

TEST_F(InterpreterTest, GatherNegativeIndex) {
  Tensor r = eval(R"(
    func.func @main(%d: tensor<3x2xf32>, %i: tensor<2xi64>) -> tensor<2x2xf32> {
      %0 = tfx.gather %d, %i {axis = 0 : i64} : (tensor<3x2xf32>, tensor<2xi64>) -> tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })",
                  {floats({3, 2}, {1, 2, 3, 4, 5, 6}), ints({2}, {-1, 0})});
  expectNear(r, {5, 6, 1, 2});
}

TEST_F(InterpreterTest, GatherAlongInnerAxisAndOutOfRange) {
  const char *source = R"(
    func.func @main(%d: tensor<2x3xi64>, %i: tensor<1xi64>) -> tensor<2x1xi64> {
      %0 = tfx.gather %d, %i {axis = 1 : i64} : (tensor<2x3xi64>, tensor<1xi64>) -> tensor<2x1xi64>
      return %0 : tensor<2x1xi64>
    })";
  Tensor r = eval(source, {ints({2, 3}, {1, 2, 3, 4, 5, 6}), ints({1}, {-2})});
  EXPECT_EQ(r.i, (std::vector<int64_t>{2, 5}));
  auto bad = evalFirst(source, {ints({2, 3}, {1, 2, 3, 4, 5, 6}), ints({1}, {3})});
  ASSERT_FALSE(bad);
  std::string message = llvm::toString(bad.takeError());
  EXPECT_NE(message.find("index 3 is out of range"), std::string::npos) << message;
}

TEST_F(InterpreterTest, EmbeddingOutOfRangeNamesTheLocation) {
  auto r = evalFirst(R"(
    func.func @main(%ids: tensor<2xi64>, %t: tensor<3x2xf32>) -> tensor<2x2xf32> {
      %0 = tfx.embedding %ids, %t : (tensor<2xi64>, tensor<3x2xf32>) -> tensor<2x2xf32> loc("wte")
      return %0 : tensor<2x2xf32>
    })",
                     {ints({2}, {0, 3}), Tensor::floats({3, 2}, 1.0f)});
  ASSERT_FALSE(r);
  std::string message = llvm::toString(r.takeError());
  EXPECT_NE(message.find("'wte'"), std::string::npos) << message;
  EXPECT_NE(message.find("embedding id 3"), std::string::npos) << message;
}

} // namespace
