//===- RaiseMaskProbeTest.cpp - mask subgraphs classified by probing ------===//

#include "passes/MaskProbe.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::raise;

namespace {

class MaskProbeTest : public ::testing::Test {
protected:
  MaskProbeTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// Classifies the value `@main` in `source` returns, as a mask of `kind`
  /// over scores [2, heads, sq, sk].
  std::optional<MaskMeaning> classify(const char *source, MaskTerm::Kind kind,
                                      int64_t sq = 4, int64_t sk = 4) {
    module = parseSourceString<ModuleOp>(source, &ctx);
    if (!module) {
      ADD_FAILURE() << "parse failed";
      return std::nullopt;
    }
    auto main = module->lookupSymbol<func::FuncOp>("main");
    Value mask = main.getBody().front().getTerminator()->getOperand(0);
    return classifyMask({MaskTerm{mask, kind, 1.0}}, 2, sq, sk);
  }

  /// The function argument `index` of `@main`.
  Value arg(unsigned index) {
    return module->lookupSymbol<func::FuncOp>("main").getArgument(index);
  }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
};

TEST_F(MaskProbeTest, AdditivePadding) {
  auto meaning = classify(R"(
    func.func @main(%m: tensor<2x4xi64>) -> tensor<2x1x1x4xf32> {
      %one = arith.constant dense<1.0> : tensor<f32>
      %min = arith.constant dense<-3.40282347E+38> : tensor<f32>
      %f = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
      %inv = tfx.sub %one, %f : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %add = tfx.mul %inv, %min : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
      %r = tfx.reshape %add : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
      return %r : tensor<2x1x1x4xf32>
    })",
                          MaskTerm::Additive);
  ASSERT_TRUE(meaning);
  EXPECT_FALSE(meaning->causal);
  EXPECT_EQ(meaning->window, 0);
  EXPECT_EQ(meaning->padding, arg(0));
}

TEST_F(MaskProbeTest, BooleanCausalAndPaddingFromFloatMask) {
  auto meaning = classify(R"(
    func.func @main(%m: tensor<2x4xf32>) -> tensor<2x1x4x4xi1> {
      %tril = arith.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
      %b = tfx.cast %m : tensor<2x4xf32> -> tensor<2x4xi1>
      %r = tfx.reshape %b : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
      %keep = tfx.and %r, %tril : (tensor<2x1x1x4xi1>, tensor<1x1x4x4xi1>) -> tensor<2x1x4x4xi1>
      return %keep : tensor<2x1x4x4xi1>
    })",
                          MaskTerm::KeepWhereTrue);
  ASSERT_TRUE(meaning);
  EXPECT_TRUE(meaning->causal);
  EXPECT_EQ(meaning->padding, arg(0));
}

TEST_F(MaskProbeTest, ConstantCausalWithOffsetAndWindow) {
  // Two queries over four keys (a cached prefix of two): query i sees keys
  // up to i + 2; hiding where the condition holds.
  const char *causal = R"(
    func.func @main() -> tensor<1x1x2x4xi1> {
      %hide = arith.constant dense<[[[[false, false, false, true], [false, false, false, false]]]]> : tensor<1x1x2x4xi1>
      return %hide : tensor<1x1x2x4xi1>
    })";
  auto meaning = classify(causal, MaskTerm::KeepWhereFalse, 2, 4);
  ASSERT_TRUE(meaning);
  EXPECT_TRUE(meaning->causal);
  EXPECT_EQ(meaning->window, 0);
  EXPECT_FALSE(meaning->padding);

  const char *window = R"(
    func.func @main() -> tensor<4x4xf32> {
      %c = arith.constant dense<[[0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0xFF800000, 0xFF800000], [0xFF800000, 0.0, 0.0, 0xFF800000], [0xFF800000, 0xFF800000, 0.0, 0.0]]> : tensor<4x4xf32>
      return %c : tensor<4x4xf32>
    })";
  meaning = classify(window, MaskTerm::Additive);
  ASSERT_TRUE(meaning);
  EXPECT_TRUE(meaning->causal);
  EXPECT_EQ(meaning->window, 2);
}

TEST_F(MaskProbeTest, AllZeroMaskIsNoMask) {
  auto meaning = classify(R"(
    func.func @main() -> tensor<1x1x1x4xf32> {
      %c = arith.constant dense<0.0> : tensor<1x1x1x4xf32>
      return %c : tensor<1x1x1x4xf32>
    })",
                          MaskTerm::Additive);
  ASSERT_TRUE(meaning);
  EXPECT_FALSE(meaning->causal);
  EXPECT_FALSE(meaning->padding);
}

TEST_F(MaskProbeTest, RejectsWhatTfxAttentionCannotSay) {
  // Keeps the padded keys and hides the others.
  EXPECT_FALSE(classify(R"(
    func.func @main(%m: tensor<2x4xi64>) -> tensor<2x1x1x4xi1> {
      %b = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xi1>
      %r = tfx.reshape %b : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
      return %r : tensor<2x1x1x4xi1>
    })",
                        MaskTerm::KeepWhereFalse));
  // Looks only at the first key of each row: right padding and all ones
  // agree with "no mask", left padding does not.
  EXPECT_FALSE(classify(R"(
    func.func @main(%m: tensor<2x4xi64>) -> tensor<2x1x1x4xi1> {
      %first = tfx.slice %m {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 1>, strides = array<i64: 1, 1>} : tensor<2x4xi64> -> tensor<2x1xi64>
      %b = tfx.cast %first : tensor<2x1xi64> -> tensor<2x1xi1>
      %e = tfx.expand %b : tensor<2x1xi1> -> tensor<2x4xi1>
      %r = tfx.reshape %e : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
      return %r : tensor<2x1x1x4xi1>
    })",
                        MaskTerm::KeepWhereTrue));
  // A soft bias (-1 on padded keys) neither keeps nor hides.
  EXPECT_FALSE(classify(R"(
    func.func @main(%m: tensor<2x4xi64>) -> tensor<2x1x1x4xf32> {
      %one = arith.constant dense<1.0> : tensor<f32>
      %f = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
      %inv = tfx.sub %f, %one : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
      %r = tfx.reshape %inv : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
      return %r : tensor<2x1x1x4xf32>
    })",
                        MaskTerm::Additive));
  // Different per head.
  EXPECT_FALSE(classify(R"(
    func.func @main() -> tensor<1x2x4x4xi1> {
      %c = arith.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]], [[true, true, true, true], [true, true, true, true], [true, true, true, true], [true, true, true, true]]]]> : tensor<1x2x4x4xi1>
      return %c : tensor<1x2x4x4xi1>
    })",
                        MaskTerm::KeepWhereTrue));
  // Two runtime inputs.
  EXPECT_FALSE(classify(R"(
    func.func @main(%a: tensor<2x4xi1>, %b: tensor<2x4xi1>) -> tensor<2x4xi1> {
      %k = tfx.and %a, %b : (tensor<2x4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
      return %k : tensor<2x4xi1>
    })",
                        MaskTerm::KeepWhereTrue));
  // The argument is not [batch, kv_len].
  EXPECT_FALSE(classify(R"(
    func.func @main(%m: tensor<2x5xi64>) -> tensor<2x4xi1> {
      %s = tfx.slice %m {offsets = array<i64: 0, 1>, sizes = array<i64: 2, 4>, strides = array<i64: 1, 1>} : tensor<2x5xi64> -> tensor<2x4xi64>
      %b = tfx.cast %s : tensor<2x4xi64> -> tensor<2x4xi1>
      return %b : tensor<2x4xi1>
    })",
                        MaskTerm::KeepWhereTrue));
  // Built from activations, not from constants and the mask.
  EXPECT_FALSE(classify(R"(
    func.func @main(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
      %w = arith.constant dense<1.0> : tensor<4x4xf32>
      %y = tfx.matmul %x, %w : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
      return %y : tensor<2x4xf32>
    })",
                        MaskTerm::Additive));
}

TEST_F(MaskProbeTest, TermsCombine) {
  // A constant causal where() and an additive padding term on one softmax.
  module = parseSourceString<ModuleOp>(R"(
    func.func @main(%m: tensor<2x4xi64>) -> (tensor<1x1x4x4xi1>, tensor<2x1x1x4xf32>) {
      %tril = arith.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
      %one = arith.constant dense<1.0> : tensor<f32>
      %big = arith.constant dense<-1.0e+09> : tensor<f32>
      %f = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
      %inv = tfx.sub %one, %f : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
      %add = tfx.mul %inv, %big : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
      %r = tfx.reshape %add : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
      return %tril, %r : tensor<1x1x4x4xi1>, tensor<2x1x1x4xf32>
    })",
                                       &ctx);
  ASSERT_TRUE(module);
  Operation *ret = module->lookupSymbol<func::FuncOp>("main").getBody().front().getTerminator();
  auto meaning = classifyMask({MaskTerm{ret->getOperand(0), MaskTerm::KeepWhereTrue, 1.0},
                               MaskTerm{ret->getOperand(1), MaskTerm::Additive, 1.0}},
                              2, 4, 4);
  ASSERT_TRUE(meaning);
  EXPECT_TRUE(meaning->causal);
  EXPECT_EQ(meaning->padding, arg(0));
  // Scaled by 1e-6 after the add, -1e9 no longer hides (-1e3 > -1e4).
  EXPECT_FALSE(classifyMask({MaskTerm{ret->getOperand(1), MaskTerm::Additive, 1e-6}}, 2, 4, 4));
}

} // namespace
