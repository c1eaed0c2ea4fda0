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

/// Attention written as plainly as possible, independently of the kernel:
/// full score matrix with masked entries skipped, float accumulation.
std::vector<float> naiveAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                                  const Tensor *mask, int64_t heads,
                                  int64_t kvHeads, float scale, bool causal,
                                  int64_t window) {
  int64_t batch = q.shape[0], sq = q.shape[1], sk = k.shape[1];
  int64_t dim = q.shape[2] / heads;
  std::vector<float> out(q.f.size(), 0.0f);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h) {
      int64_t kvh = h * kvHeads / heads;
      for (int64_t i = 0; i < sq; ++i) {
        std::vector<double> weights;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j < sk; ++j) {
          int64_t pos = i + sk - sq;
          if (causal && j > pos)
            continue;
          if (window > 0 && pos - j >= window)
            continue;
          if (mask && mask->i[b * sk + j] == 0)
            continue;
          double dot = 0;
          for (int64_t d = 0; d < dim; ++d)
            dot += q.f[(b * sq + i) * heads * dim + h * dim + d] *
                   k.f[(b * sk + j) * kvHeads * dim + kvh * dim + d];
          weights.push_back(std::exp(scale * dot));
          keys.push_back(j);
        }
        double total = 0;
        for (double w : weights)
          total += w;
        for (size_t n = 0; n < keys.size(); ++n)
          for (int64_t d = 0; d < dim; ++d)
            out[(b * sq + i) * heads * dim + h * dim + d] +=
                weights[n] / total *
                v.f[(b * sk + keys[n]) * kvHeads * dim + kvh * dim + d];
      }
    }
  return out;
}

TEST_F(InterpreterTest, AttentionGqaCausalPaddingMatchesNaiveLoop) {
  // 4 query heads over 2 kv heads, head_dim 3, q_len 3 < kv_len 5 (causal
  // offset 2), and batch 1 masks its first two keys.
  const char *source = R"(
    func.func @main(%q: tensor<2x3x12xf32>, %k: tensor<2x5x6xf32>, %v: tensor<2x5x6xf32>, %m: tensor<2x5xi64>) -> tensor<2x3x12xf32> {
      %0 = tfx.attention %q, %k, %v, %m {num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.5 : f32, causal = true}
        : (tensor<2x3x12xf32>, tensor<2x5x6xf32>, tensor<2x5x6xf32>, tensor<2x5xi64>) -> tensor<2x3x12xf32>
      return %0 : tensor<2x3x12xf32>
    })";
  Tensor q = randomFloats({2, 3, 12}, 1), k = randomFloats({2, 5, 6}, 2),
         v = randomFloats({2, 5, 6}, 3);
  Tensor mask = ints({2, 5}, {1, 1, 1, 1, 1, 0, 0, 1, 1, 1});
  Tensor r = eval(source, {q, k, v, mask});
  expectNear(r, naiveAttention(q, k, v, &mask, 4, 2, 0.5f, true, 0));
}

TEST_F(InterpreterTest, AttentionSlidingWindowAndNoVisibleKey) {
  // Window 2 without padding; then a mask hiding every key of batch 0
  // must give zeros, not NaN.
  const char *source = R"(
    func.func @main(%q: tensor<1x4x4xf32>, %k: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>) -> tensor<1x4x4xf32> {
      %0 = tfx.attention %q, %k, %v {num_heads = 2 : i64, num_kv_heads = 2 : i64, scale = 1.0 : f32, causal = true, window = 2 : i64}
        : (tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
      return %0 : tensor<1x4x4xf32>
    })";
  Tensor q = randomFloats({1, 4, 4}, 4), k = randomFloats({1, 4, 4}, 5),
         v = randomFloats({1, 4, 4}, 6);
  Tensor r = eval(source, {q, k, v});
  expectNear(r, naiveAttention(q, k, v, nullptr, 2, 2, 1.0f, true, 2));

  Tensor none = eval(R"(
    func.func @main(%q: tensor<1x4x4xf32>, %k: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>, %m: tensor<1x4xi1>) -> tensor<1x4x4xf32> {
      %0 = tfx.attention %q, %k, %v, %m {num_heads = 1 : i64, num_kv_heads = 1 : i64, scale = 1.0 : f32}
        : (tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x4x4xf32>, tensor<1x4xi1>) -> tensor<1x4x4xf32>
      return %0 : tensor<1x4x4xf32>
    })",
                     {q, k, v, ints({1, 4}, {0, 0, 0, 0}, DType::Bool)});
  expectNear(none, std::vector<float>(16, 0.0f), 0.0f);
}

TEST_F(InterpreterTest, AttentionSingleKeyCopiesValue) {
  // One visible key: the output is that key's value row, whatever the scores.
  Tensor r = eval(R"(
    func.func @main(%q: tensor<1x1x2xf32>, %k: tensor<1x1x2xf32>, %v: tensor<1x1x2xf32>) -> tensor<1x1x2xf32> {
      %0 = tfx.attention %q, %k, %v {num_heads = 1 : i64, num_kv_heads = 1 : i64, scale = 3.0 : f32}
        : (tensor<1x1x2xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
      return %0 : tensor<1x1x2xf32>
    })",
                  {floats({1, 1, 2}, {1, 2}), floats({1, 1, 2}, {3, 4}),
                   floats({1, 1, 2}, {7, -8})});
  expectNear(r, {7, -8});
}

const char *kRopeSource = R"(
    func.func @main(%x: tensor<1x2x4xf32>) -> tensor<1x2x4xf32> {
      %0 = tfx.rope %x {num_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, layout = #tfx<rope_layout LAYOUT>}
        : (tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
      return %0 : tensor<1x2x4xf32>
    })";

TEST_F(InterpreterTest, RopeHalfLayout) {
  // Position 0 is the identity; at position 1 the angles are 1 and 0.01,
  // and pairs are (x0, x2) and (x1, x3).
  std::string source = kRopeSource;
  source.replace(source.find("LAYOUT"), 6, "half");
  Tensor r = eval(source, {floats({1, 2, 4}, {1, 2, 3, 4, 1, 2, 3, 4})});
  double c1 = std::cos(1.0), s1 = std::sin(1.0), c2 = std::cos(0.01),
         s2 = std::sin(0.01);
  expectNear(r, {1, 2, 3, 4, (float)(1 * c1 - 3 * s1), (float)(2 * c2 - 4 * s2),
                 (float)(3 * c1 + 1 * s1), (float)(4 * c2 + 2 * s2)});
}

TEST_F(InterpreterTest, RopeInterleavedLayoutWithPositions) {
  // Pairs are (x0, x1) at angle pos and (x2, x3) at angle pos / 100; the
  // positions operand puts token 0 at position 1 and token 1 at 0.
  std::string source = R"(
    func.func @main(%x: tensor<1x2x4xf32>, %p: tensor<1x2xi64>) -> tensor<1x2x4xf32> {
      %0 = tfx.rope %x, %p {num_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, layout = #tfx<rope_layout interleaved>}
        : (tensor<1x2x4xf32>, tensor<1x2xi64>) -> tensor<1x2x4xf32>
      return %0 : tensor<1x2x4xf32>
    })";
  Tensor r = eval(source, {floats({1, 2, 4}, {1, 2, 3, 4, 1, 2, 3, 4}),
                           ints({1, 2}, {1, 0})});
  double c1 = std::cos(1.0), s1 = std::sin(1.0), c2 = std::cos(0.01),
         s2 = std::sin(0.01);
  expectNear(r, {(float)(1 * c1 - 2 * s1), (float)(2 * c1 + 1 * s1),
                 (float)(3 * c2 - 4 * s2), (float)(4 * c2 + 3 * s2), 1, 2, 3, 4});
}

TEST_F(InterpreterTest, RopePartialRotaryDimPassesTheRest) {
  Tensor r = eval(R"(
    func.func @main(%x: tensor<1x1x8xf32>, %p: tensor<1x1xi64>) -> tensor<1x1x8xf32> {
      %0 = tfx.rope %x, %p {num_heads = 2 : i64, rotary_dim = 2 : i64, theta = 10000.0 : f64}
        : (tensor<1x1x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32>
      return %0 : tensor<1x1x8xf32>
    })",
                  {floats({1, 1, 8}, {1, 2, 3, 4, 5, 6, 7, 8}), ints({1, 1}, {2})});
  double c = std::cos(2.0), s = std::sin(2.0);
  expectNear(r, {(float)(1 * c - 2 * s), (float)(2 * c + 1 * s), 3, 4,
                 (float)(5 * c - 6 * s), (float)(6 * c + 5 * s), 7, 8});
}

TEST_F(InterpreterTest, LayerNormAndRmsNorm) {
  // Row [1,2,3,4]: mean 2.5, biased variance 1.25.
  Tensor ln = eval(R"(
    func.func @main(%x: tensor<1x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<1x4xf32> {
      %0 = tfx.layer_norm %x, %g, %b {epsilon = 0.0 : f32} : (tensor<1x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
      return %0 : tensor<1x4xf32>
    })",
                   {floats({1, 4}, {1, 2, 3, 4}), floats({4}, {1, 1, 2, 2}),
                    floats({4}, {0, 0, 0, 1})});
  double inv = 1.0 / std::sqrt(1.25);
  expectNear(ln, {(float)(-1.5 * inv), (float)(-0.5 * inv), (float)(2 * 0.5 * inv),
                  (float)(2 * 1.5 * inv + 1)});
  // mean(x^2) = 7.5.
  Tensor rms = eval(R"(
    func.func @main(%x: tensor<1x4xf32>, %g: tensor<4xf32>) -> tensor<1x4xf32> {
      %0 = tfx.rms_norm %x, %g {epsilon = 0.5 : f32} : (tensor<1x4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
      return %0 : tensor<1x4xf32>
    })",
                    {floats({1, 4}, {1, 2, 3, 4}), floats({4}, {1, 2, 1, 1})});
  double r8 = 1.0 / std::sqrt(8.0);
  expectNear(rms, {(float)r8, (float)(4 * r8), (float)(3 * r8), (float)(4 * r8)});
}

TEST_F(InterpreterTest, SoftmaxOverEachAxis) {
  const char *lastAxis = R"(
    func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
      %0 = tfx.softmax %x : tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })";
  Tensor r = eval(lastAxis, {floats({2, 2}, {0, 0, 1000, 1000 + std::log(3.0f)})});
  expectNear(r, {0.5, 0.5, 0.25, 0.75});
  Tensor first = eval(R"(
    func.func @main(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
      %0 = tfx.softmax %x {axis = 0 : i64} : tensor<2x2xf32>
      return %0 : tensor<2x2xf32>
    })",
                      {floats({2, 2}, {0, 1, 0, 1})});
  expectNear(first, {0.5, 0.5, 0.5, 0.5});
}

TEST_F(InterpreterTest, GeluBothApproximations) {
  Tensor erf = eval(R"(
    func.func @main(%x: tensor<2xf32>) -> tensor<2xf32> {
      %0 = tfx.gelu %x : tensor<2xf32>
      return %0 : tensor<2xf32>
    })",
                    {floats({2}, {1, -2})});
  expectNear(erf, {(float)(0.5 * (1 + std::erf(1 / std::sqrt(2.0)))),
                   (float)(-1 * (1 + std::erf(-2 / std::sqrt(2.0))))});
  Tensor tanh = eval(R"(
    func.func @main(%x: tensor<1xf32>) -> tensor<1xf32> {
      %0 = tfx.gelu %x {approximate = #tfx<gelu_approx tanh>} : tensor<1xf32>
      return %0 : tensor<1xf32>
    })",
                     {floats({1}, {1})});
  expectNear(tanh, {(float)(0.5 * (1 + std::tanh(std::sqrt(2 / M_PI) * 1.044715)))});
}

TEST_F(InterpreterTest, CastTruncatesAndToBoolIsNonZero) {
  Tensor toInt = eval(R"(
    func.func @main(%x: tensor<4xf32>) -> tensor<4xi64> {
      %0 = tfx.cast %x : tensor<4xf32> -> tensor<4xi64>
      return %0 : tensor<4xi64>
    })",
                      {floats({4}, {1.9f, -1.9f, 0.2f, -0.0f})});
  EXPECT_EQ(toInt.i, (std::vector<int64_t>{1, -1, 0, 0}));
  EXPECT_EQ(toInt.dtype, DType::I64);
  Tensor toBool = eval(R"(
    func.func @main(%x: tensor<3xf32>) -> tensor<3xi1> {
      %0 = tfx.cast %x : tensor<3xf32> -> tensor<3xi1>
      return %0 : tensor<3xi1>
    })",
                       {floats({3}, {0.0f, 0.2f, -3.0f})});
  EXPECT_EQ(toBool.i, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(toBool.dtype, DType::Bool);
  Tensor toFloat = eval(R"(
    func.func @main(%x: tensor<2xi1>) -> tensor<2xf32> {
      %0 = tfx.cast %x : tensor<2xi1> -> tensor<2xf32>
      return %0 : tensor<2xf32>
    })",
                        {ints({2}, {1, 0}, DType::Bool)});
  expectNear(toFloat, {1, 0}, 0);
}

TEST_F(InterpreterTest, SliceWithStrides) {
  Tensor r = eval(R"(
    func.func @main(%x: tensor<3x4xi64>) -> tensor<2x2xi64> {
      %0 = tfx.slice %x {offsets = array<i64: 1, 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 2>} : tensor<3x4xi64> -> tensor<2x2xi64>
      return %0 : tensor<2x2xi64>
    })",
                  {ints({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})});
  EXPECT_EQ(r.i, (std::vector<int64_t>{4, 6, 8, 10}));
}

TEST_F(InterpreterTest, ConcatMiddleAxis) {
  Tensor r = eval(R"(
    func.func @main(%a: tensor<2x1x2xf32>, %b: tensor<2x2x2xf32>) -> tensor<2x3x2xf32> {
      %0 = tfx.concat %a, %b {axis = 1 : i64} : (tensor<2x1x2xf32>, tensor<2x2x2xf32>) -> tensor<2x3x2xf32>
      return %0 : tensor<2x3x2xf32>
    })",
                  {floats({2, 1, 2}, {1, 2, 3, 4}),
                   floats({2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12})});
  expectNear(r, {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, 0);
}

TEST_F(InterpreterTest, ReduceKinds) {
  Tensor x = floats({2, 3}, {1, 5, 3, -4, 2, 8});
  Tensor sum = eval(R"(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
      %0 = tfx.reduce sum %x {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2x1xf32>
      return %0 : tensor<2x1xf32>
    })",
                    {x});
  expectNear(sum, {9, 6});
  Tensor mean = eval(R"(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<3xf32> {
      %0 = tfx.reduce mean %x {axes = array<i64: 0>, keepdims = false} : tensor<2x3xf32> -> tensor<3xf32>
      return %0 : tensor<3xf32>
    })",
                     {x});
  expectNear(mean, {-1.5, 3.5, 5.5});
  Tensor max = eval(R"(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<f32> {
      %0 = tfx.reduce max %x {axes = array<i64: 0, 1>, keepdims = false} : tensor<2x3xf32> -> tensor<f32>
      return %0 : tensor<f32>
    })",
                    {x});
  expectNear(max, {8});
}

TEST_F(InterpreterTest, WhereBroadcastsAllThree) {
  Tensor r = eval(R"(
    func.func @main(%c: tensor<2x1xi1>, %a: tensor<3xf32>, %b: tensor<f32>) -> tensor<2x3xf32> {
      %0 = tfx.where %c, %a, %b : (tensor<2x1xi1>, tensor<3xf32>, tensor<f32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    })",
                  {ints({2, 1}, {1, 0}, DType::Bool), floats({3}, {1, 2, 3}),
                   floats({}, {-1})});
  expectNear(r, {1, 2, 3, -1, -1, -1}, 0);
}

TEST_F(InterpreterTest, TransposeAndExpand) {
  Tensor t = eval(R"(
    func.func @main(%x: tensor<2x3xi64>) -> tensor<3x2xi64> {
      %0 = tfx.transpose %x, [1, 0] : tensor<2x3xi64> -> tensor<3x2xi64>
      return %0 : tensor<3x2xi64>
    })",
                  {ints({2, 3}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(t.i, (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
  Tensor e = eval(R"(
    func.func @main(%x: tensor<2x1xi64>) -> tensor<2x2xi64> {
      %0 = tfx.expand %x : tensor<2x1xi64> -> tensor<2x2xi64>
      return %0 : tensor<2x2xi64>
    })",
                  {ints({2, 1}, {7, 9})});
  EXPECT_EQ(e.i, (std::vector<int64_t>{7, 7, 9, 9}));
}

TEST_F(InterpreterTest, GatherElementsAndGatherNd) {
  Tensor ge = eval(R"(
    func.func @main(%d: tensor<2x2xi64>, %i: tensor<2x2xi64>) -> tensor<2x2xi64> {
      %0 = tfx.gather_elements %d, %i {axis = 1 : i64} : (tensor<2x2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
      return %0 : tensor<2x2xi64>
    })",
                   {ints({2, 2}, {1, 2, 3, 4}), ints({2, 2}, {0, 0, -1, 0})});
  EXPECT_EQ(ge.i, (std::vector<int64_t>{1, 1, 4, 3}));
  // batch_dims 1: each batch row picks its own element.
  Tensor nd = eval(R"(
    func.func @main(%d: tensor<2x3xi64>, %i: tensor<2x1xi64>) -> tensor<2xi64> {
      %0 = tfx.gather_nd %d, %i {batch_dims = 1 : i64} : (tensor<2x3xi64>, tensor<2x1xi64>) -> tensor<2xi64>
      return %0 : tensor<2xi64>
    })",
                   {ints({2, 3}, {1, 2, 3, 4, 5, 6}), ints({2, 1}, {2, -3})});
  EXPECT_EQ(nd.i, (std::vector<int64_t>{3, 4}));
}

TEST_F(InterpreterTest, ConstantsSplatAndResource) {
  Tensor splat = eval(R"(
    func.func @main() -> tensor<2x2xf16> {
      %0 = arith.constant dense<1.5> : tensor<2x2xf16>
      return %0 : tensor<2x2xf16>
    })",
                      {});
  EXPECT_EQ(splat.dtype, DType::F16);
  expectNear(splat, {1.5, 1.5, 1.5, 1.5}, 0);
  // Resource blobs start with a 4-byte alignment word; then two i32 LE.
  Tensor resource = eval(R"(
    func.func @main() -> tensor<2xi32> {
      %0 = arith.constant dense_resource<blob> : tensor<2xi32>
      return %0 : tensor<2xi32>
    }
    {-#
      dialect_resources: { builtin: { blob: "0x0400000007000000FEFFFFFF" } }
    #-})",
                         {});
  EXPECT_EQ(resource.i, (std::vector<int64_t>{7, -2}));
  EXPECT_EQ(resource.dtype, DType::I32);
}

TEST_F(InterpreterTest, AttrFromTensorRoundTrips) {
  auto type = RankedTensorType::get({3}, IntegerType::get(&ctx, 32));
  DenseElementsAttr attr = attrFromTensor(ints({3}, {1, -2, 3}), type);
  ASSERT_TRUE(attr);
  auto back = tensorFromAttr(attr);
  ASSERT_TRUE((bool)back);
  EXPECT_EQ(back->i, (std::vector<int64_t>{1, -2, 3}));
  auto boolType = RankedTensorType::get({2}, IntegerType::get(&ctx, 1));
  auto bools = tensorFromAttr(attrFromTensor(ints({2}, {0, 5}), boolType));
  ASSERT_TRUE((bool)bools);
  EXPECT_EQ(bools->i, (std::vector<int64_t>{0, 1}));
  EXPECT_FALSE(attrFromTensor(ints({2}, {0, 5}), type)); // element count differs
}

TEST_F(InterpreterTest, CheckTensorTypeNamesShapes) {
  auto type = RankedTensorType::get({2, ShapedType::kDynamic},
                                    IntegerType::get(&ctx, 64));
  EXPECT_FALSE((bool)checkTensorType(Tensor::ints({2, 7}), type, "input 'ids'"));
  llvm::Error err = checkTensorType(Tensor::ints({3, 7}), type, "input 'ids'");
  std::string message = llvm::toString(std::move(err));
  EXPECT_EQ(message, "input 'ids': expected shape [2,?] (i64), got [3,7] (i64)");
  EXPECT_TRUE((bool)checkTensorType(Tensor::floats({2, 7}), type, "x") ? true
                                                                         : false);
}

} // namespace
