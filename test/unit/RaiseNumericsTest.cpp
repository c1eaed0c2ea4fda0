//===- RaiseNumericsTest.cpp - raised attention computes what it replaced ===//
//
// The pass tests check the shape of what tfx-raise writes; these run the
// generic IR and its raised form on the reference interpreter with random
// q, k, v and padded attention masks and compare, so that a mask meaning
// read wrongly (padding side, causal offset, window, GQA grouping) fails.
//
//===----------------------------------------------------------------------===//

#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::tfx;

namespace {

// BERT style: (1 - mask) * -10000 added to the scores / sqrt(head_dim).
const char *kPaddingAdditive = R"(
  func.func @main(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
    %one = arith.constant dense<1.0> : tensor<f32>
    %big = arith.constant dense<-10000.0> : tensor<f32>
    %two = arith.constant dense<2.0> : tensor<f32>
    %mf = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xf32>
    %inv = tfx.sub %one, %mf : (tensor<f32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    %neg = tfx.mul %inv, %big : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
    %m4 = tfx.reshape %neg : tensor<2x4xf32> -> tensor<2x1x1x4xf32>
    %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ss = tfx.div %s, %two : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
    %sm = tfx.add %ss, %m4 : (tensor<2x2x4x4xf32>, tensor<2x1x1x4xf32>) -> tensor<2x2x4x4xf32>
    %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
    %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
    %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
    return %out : tensor<2x4x8xf32>
  }
)";

// Llama style: one kv head repeated for two query heads, causal + padding as
// where(keep, scores, -inf), and the where(is_nan(p), 0, p) guard.
const char *kGqaCausalPadding = R"(
  func.func @main(%q: tensor<2x4x8xf32>, %k: tensor<2x4x4xf32>, %vin: tensor<2x4x4xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
    %tril = arith.constant dense<[[[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]]]> : tensor<1x1x4x4xi1>
    %fill = arith.constant dense<0xFF800000> : tensor<f32>
    %zero = arith.constant dense<0.0> : tensor<f32>
    %half = arith.constant dense<0.5> : tensor<f32>
    %mb = tfx.cast %m : tensor<2x4xi64> -> tensor<2x4xi1>
    %m4 = tfx.reshape %mb : tensor<2x4xi1> -> tensor<2x1x1x4xi1>
    %keep = tfx.and %m4, %tril : (tensor<2x1x1x4xi1>, tensor<1x1x4x4xi1>) -> tensor<2x1x4x4xi1>
    %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %k1_r = tfx.reshape %k : tensor<2x4x4xf32> -> tensor<2x4x1x4xf32>
    %k1 = tfx.transpose %k1_r, [0, 2, 1, 3] : tensor<2x4x1x4xf32> -> tensor<2x1x4x4xf32>
    %krep_a = tfx.reshape %k1 : tensor<2x1x4x4xf32> -> tensor<2x1x1x4x4xf32>
    %krep_b = tfx.expand %krep_a : tensor<2x1x1x4x4xf32> -> tensor<2x1x2x4x4xf32>
    %krep = tfx.reshape %krep_b : tensor<2x1x2x4x4xf32> -> tensor<2x2x4x4xf32>
    %kt = tfx.transpose %krep, [0, 1, 3, 2] : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
    %v1_r = tfx.reshape %vin : tensor<2x4x4xf32> -> tensor<2x4x1x4xf32>
    %v1 = tfx.transpose %v1_r, [0, 2, 1, 3] : tensor<2x4x1x4xf32> -> tensor<2x1x4x4xf32>
    %v_a = tfx.reshape %v1 : tensor<2x1x4x4xf32> -> tensor<2x1x1x4x4xf32>
    %v_b = tfx.expand %v_a : tensor<2x1x1x4x4xf32> -> tensor<2x1x2x4x4xf32>
    %v = tfx.reshape %v_b : tensor<2x1x2x4x4xf32> -> tensor<2x2x4x4xf32>
    %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ss = tfx.mul %s, %half : (tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
    %w = tfx.where %keep, %ss, %fill : (tensor<2x1x4x4xi1>, tensor<2x2x4x4xf32>, tensor<f32>) -> tensor<2x2x4x4xf32>
    %p = tfx.softmax %w {axis = -1 : i64} : tensor<2x2x4x4xf32>
    %nan = tfx.is_nan %p : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xi1>
    %g = tfx.where %nan, %zero, %p : (tensor<2x2x4x4xi1>, tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %o = tfx.matmul %g, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
    %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
    return %out : tensor<2x4x8xf32>
  }
)";

// masked_fill(mask == 0, -1e9) without a scale.
const char *kMaskedFill = R"(
  func.func @main(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>, %m: tensor<2x4xi64>) -> tensor<2x4x8xf32> {
    %zi = arith.constant dense<0> : tensor<i64>
    %fill = arith.constant dense<-1.0e+09> : tensor<f32>
    %m4 = tfx.reshape %m : tensor<2x4xi64> -> tensor<2x1x1x4xi64>
    %pad = tfx.equal %m4, %zi : (tensor<2x1x1x4xi64>, tensor<i64>) -> tensor<2x1x1x4xi1>
    %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %w = tfx.where %pad, %fill, %s : (tensor<2x1x1x4xi1>, tensor<f32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %p = tfx.softmax %w {axis = 3 : i64} : tensor<2x2x4x4xf32>
    %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
    %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
    return %out : tensor<2x4x8xf32>
  }
)";

// A constant causal band of width 2 (sliding window).
const char *kCausalWindow = R"(
  func.func @main(%q: tensor<2x4x8xf32>, %k: tensor<2x4x8xf32>, %vin: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
    %c = arith.constant dense<[[[[0.0, -1.0e+09, -1.0e+09, -1.0e+09], [0.0, 0.0, -1.0e+09, -1.0e+09], [-1.0e+09, 0.0, 0.0, -1.0e+09], [-1.0e+09, -1.0e+09, 0.0, 0.0]]]]> : tensor<1x1x4x4xf32>
    %qh_r = tfx.reshape %q : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %qh = tfx.transpose %qh_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %kt_r = tfx.reshape %k : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %kt = tfx.transpose %kt_r, [0, 2, 3, 1] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %v_r = tfx.reshape %vin : tensor<2x4x8xf32> -> tensor<2x4x2x4xf32>
    %v = tfx.transpose %v_r, [0, 2, 1, 3] : tensor<2x4x2x4xf32> -> tensor<2x2x4x4xf32>
    %s = tfx.matmul %qh, %kt : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %sm = tfx.add %s, %c : (tensor<2x2x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<2x2x4x4xf32>
    %p = tfx.softmax %sm {axis = 3 : i64} : tensor<2x2x4x4xf32>
    %o = tfx.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
    %ot = tfx.transpose %o, [0, 2, 1, 3] : tensor<2x2x4x4xf32> -> tensor<2x4x2x4xf32>
    %out = tfx.reshape %ot : tensor<2x4x2x4xf32> -> tensor<2x4x8xf32>
    return %out : tensor<2x4x8xf32>
  }
)";

class RaiseNumericsTest : public ::testing::Test {
protected:
  RaiseNumericsTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// Parses `source`, raises a clone, checks that the raised form holds one
  /// tfx.attention and no softmax, runs both on `inputs` and returns the
  /// largest absolute difference of the outputs (or a negative number with
  /// a test failure).
  double raisedError(const char *source, const std::map<std::string, Tensor> &inputs) {
    OwningOpRef<ModuleOp> generic = parseSourceString<ModuleOp>(source, &ctx);
    if (!generic) {
      ADD_FAILURE() << "parse failed";
      return -1.0;
    }
    OwningOpRef<ModuleOp> raised = generic->clone();
    PassManager pm(&ctx);
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createTfxRaise());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    if (failed(pm.run(*raised))) {
      ADD_FAILURE() << "tfx-raise failed";
      return -1.0;
    }
    int attentions = 0, softmaxes = 0;
    raised->walk([&](Operation *op) {
      attentions += isa<AttentionOp>(op);
      softmaxes += isa<SoftmaxOp>(op);
    });
    EXPECT_EQ(attentions, 1);
    EXPECT_EQ(softmaxes, 0);
    auto before = runFunction(*generic, inputs);
    auto after = runFunction(*raised, inputs);
    if (!before || !after) {
      ADD_FAILURE() << "run failed: "
                    << (before ? std::string() : llvm::toString(before.takeError()))
                    << (after ? std::string() : llvm::toString(after.takeError()));
      return -1.0;
    }
    const Tensor &a = before->begin()->second, &b = after->begin()->second;
    EXPECT_EQ(a.shape, b.shape);
    double err = 0.0;
    for (size_t i = 0; i < a.f.size() && i < b.f.size(); ++i) {
      EXPECT_FALSE(std::isnan(a.f[i]) || std::isnan(b.f[i])) << "at " << i;
      err = std::max(err, (double)std::fabs(a.f[i] - b.f[i]));
    }
    return err;
  }

  Tensor random(std::vector<int64_t> shape) {
    Tensor t = Tensor::floats(std::move(shape));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float &x : t.f)
      x = normal(rng);
    return t;
  }

  /// [2, 4] attention mask from rows of 0/1.
  static Tensor mask(std::vector<int64_t> values) {
    Tensor t = Tensor::ints({2, 4});
    t.i = std::move(values);
    return t;
  }

  MLIRContext ctx;
  std::mt19937 rng{1234};
};

TEST_F(RaiseNumericsTest, PaddingAdditive) {
  // Row 0 padded on the right, row 1 on the left.
  for (const Tensor &m : {mask({1, 1, 1, 1, 1, 1, 1, 1}), mask({1, 1, 0, 0, 0, 1, 1, 1}),
                          mask({1, 0, 1, 0, 0, 0, 1, 1})}) {
    double err = raisedError(kPaddingAdditive, {{"arg0", random({2, 4, 8})},
                                                {"arg1", random({2, 4, 8})},
                                                {"arg2", random({2, 4, 8})},
                                                {"arg3", m}});
    EXPECT_GE(err, 0.0);
    EXPECT_LT(err, 1e-5);
  }
}

TEST_F(RaiseNumericsTest, GqaCausalPaddingWithNanGuard) {
  // Left padding leaves the first queries of row 1 with no visible key: the
  // guard turns their NaN rows into zeros, as tfx.attention defines.
  for (const Tensor &m : {mask({1, 1, 1, 1, 1, 1, 1, 1}), mask({1, 1, 1, 0, 0, 0, 1, 1}),
                          mask({1, 0, 1, 1, 0, 1, 0, 1})}) {
    double err = raisedError(kGqaCausalPadding, {{"arg0", random({2, 4, 8})},
                                                 {"arg1", random({2, 4, 4})},
                                                 {"arg2", random({2, 4, 4})},
                                                 {"arg3", m}});
    EXPECT_GE(err, 0.0);
    EXPECT_LT(err, 1e-5);
  }
}

TEST_F(RaiseNumericsTest, MaskedFill) {
  double err = raisedError(kMaskedFill, {{"arg0", random({2, 4, 8})},
                                         {"arg1", random({2, 4, 8})},
                                         {"arg2", random({2, 4, 8})},
                                         {"arg3", mask({0, 1, 1, 0, 1, 1, 0, 1})}});
  EXPECT_GE(err, 0.0);
  EXPECT_LT(err, 1e-5);
}

TEST_F(RaiseNumericsTest, CausalWindow) {
  double err = raisedError(kCausalWindow, {{"arg0", random({2, 4, 8})},
                                           {"arg1", random({2, 4, 8})},
                                           {"arg2", random({2, 4, 8})}});
  EXPECT_GE(err, 0.0);
  EXPECT_LT(err, 1e-5);
}

} // namespace
