//===- InterpreterRunTest.cpp - runFunction: names, checks, errors --------===//

#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::tfx;

namespace {

class RunFunctionTest : public ::testing::Test {
protected:
  RunFunctionTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// Runs `source`, returning the error message ("" on success).
  std::string runError(llvm::StringRef source,
                       const std::map<std::string, Tensor> &inputs) {
    auto module = parseSourceString<ModuleOp>(source, &ctx);
    if (!module)
      return "parse failed";
    auto outputs = runFunction(*module, inputs);
    if (outputs) {
      last = std::move(*outputs);
      return "";
    }
    return llvm::toString(outputs.takeError());
  }

  MLIRContext ctx;
  std::map<std::string, Tensor> last;
};

// A two-layer MLP with constant weights, named input and output.
const char *kMlp = R"(
  func.func @main(%x: tensor<1x2xf32> {tfx.name = "x"}) -> (tensor<1x2xf32> {tfx.name = "y"}, tensor<1x2xf32>) {
    %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
    %b1 = arith.constant dense<[0.5, -20.0]> : tensor<2xf32>
    %h = tfx.linear %x, %w1, %b1 : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
    %r = tfx.relu %h : tensor<1x2xf32>
    %y = tfx.linear %r, %w1 : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
    return %y, %h : tensor<1x2xf32>, tensor<1x2xf32>
  })";

TEST_F(RunFunctionTest, RunsAndNamesOutputs) {
  Tensor x = Tensor::floats({1, 2});
  x.f = {1, 2};
  ASSERT_EQ(runError(kMlp, {{"x", x}}), "");
  // h = [1*1+2*2+0.5, 3*1+4*2-20] = [5.5, -9]; relu -> [5.5, 0]; y = [5.5, 16.5].
  ASSERT_EQ(last.count("y"), 1u);
  ASSERT_EQ(last.count("result1"), 1u);
  EXPECT_EQ(last["y"].f, (std::vector<float>{5.5f, 16.5f}));
  EXPECT_EQ(last["result1"].f, (std::vector<float>{5.5f, -9.0f}));
}

// A checkpoint at the second linear: resuming there with an observer
// that changes that linear gives what a whole run with the same observer
// gives, and resuming without one repeats the plain run; several resumes
// from one checkpoint do not disturb each other.
TEST_F(RunFunctionTest, ResumesFromCheckpoint) {
  auto module = parseSourceString<ModuleOp>(kMlp, &ctx);
  ASSERT_TRUE(module);
  Operation *second = nullptr;
  int linears = 0;
  module->walk([&](LinearOp op) {
    if (++linears == 2)
      second = op;
  });
  ASSERT_TRUE(second);
  Tensor x = Tensor::floats({1, 2});
  x.f = {1, 2};
  RunCheckpoints checkpoints;
  checkpoints[second] = RunCheckpoint();
  auto plain = runFunction(*module, {{"x", x}}, "", nullptr, &checkpoints);
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  ASSERT_TRUE(checkpoints[second].get());
  OpObserver doubleSecond = [&](Operation *op, llvm::ArrayRef<const Tensor *>, Tensor &r) {
    if (op == second)
      for (float &v : r.f)
        v *= 2;
  };
  auto whole = runFunction(*module, {{"x", x}}, "", doubleSecond);
  ASSERT_TRUE(bool(whole));
  for (int repeat = 0; repeat < 2; ++repeat) {
    auto resumed = resumeFunction(checkpoints[second], doubleSecond);
    ASSERT_TRUE(bool(resumed)) << llvm::toString(resumed.takeError());
    EXPECT_EQ(resumed->at("y").f, whole->at("y").f);
    EXPECT_EQ(resumed->at("result1").f, whole->at("result1").f);
    auto again = resumeFunction(checkpoints[second]);
    ASSERT_TRUE(bool(again));
    EXPECT_EQ(again->at("y").f, plain->at("y").f);
  }
  EXPECT_EQ(whole->at("y").f, (std::vector<float>{11, 33}));
  auto none = resumeFunction(RunCheckpoint());
  ASSERT_FALSE(bool(none));
  EXPECT_NE(llvm::toString(none.takeError()).find("no run has taken"), std::string::npos);
}

TEST_F(RunFunctionTest, RejectsMissingWrongAndUnknownInputs) {
  EXPECT_EQ(runError(kMlp, {}),
            "missing input 'x' (expected tensor<1x2xf32>)");
  EXPECT_EQ(runError(kMlp, {{"x", Tensor::floats({1, 3})}}),
            "input 'x': expected shape [1,2] (f32), got [1,3] (f32)");
  EXPECT_EQ(runError(kMlp, {{"x", Tensor::ints({1, 2})}}),
            "input 'x': expected shape [1,2] (f32), got [1,2] (i64)");
  std::string message =
      runError(kMlp, {{"x", Tensor::floats({1, 2})}, {"z", Tensor::floats({1})}});
  EXPECT_EQ(message, "unknown input 'z'; the function takes: x");
}

TEST_F(RunFunctionTest, UnknownOpNamesOpAndLocation) {
  std::string message = runError(R"(
    func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
      %0 = arith.addf %a, %a : tensor<2xf32> loc("model.mlir":3:7)
      return %0 : tensor<2xf32>
    })",
                                 {{"arg0", Tensor::floats({2})}});
  EXPECT_NE(message.find("model.mlir:3:7"), std::string::npos) << message;
  EXPECT_NE(message.find("'arith.addf'"), std::string::npos) << message;
}

TEST_F(RunFunctionTest, RuntimeErrorNamesLocation) {
  Tensor ids = Tensor::ints({1, 2}, 0);
  ids.i = {1, 9};
  std::string message = runError(R"(
    func.func @main(%ids: tensor<1x2xi64> {tfx.name = "input_ids"}) -> tensor<1x2x2xf32> {
      %t = arith.constant dense<1.0> : tensor<4x2xf32>
      %0 = tfx.embedding %ids, %t : (tensor<1x2xi64>, tensor<4x2xf32>) -> tensor<1x2x2xf32> loc("wte")
      return %0 : tensor<1x2x2xf32>
    })",
                                 {{"input_ids", ids}});
  EXPECT_NE(message.find("'wte'"), std::string::npos) << message;
  EXPECT_NE(message.find("embedding id 9"), std::string::npos) << message;
}

TEST_F(RunFunctionTest, WeightWithoutWeightFileIsAnError) {
  std::string message = runError(R"(
    func.func @main() -> tensor<2xf32> {
      %w = tfx.weight "bias" : tensor<2xf32> loc("bias")
      return %w : tensor<2xf32>
    })",
                                 {});
  EXPECT_NE(message.find("'bias'"), std::string::npos) << message;
  EXPECT_NE(message.find("tfx.weights"), std::string::npos) << message;
}

TEST_F(RunFunctionTest, ChoosesFunctionByName) {
  const char *source = R"(
    func.func @one() -> tensor<i64> {
      %c = arith.constant dense<1> : tensor<i64>
      return %c : tensor<i64>
    }
    func.func @two() -> tensor<i64> {
      %c = arith.constant dense<2> : tensor<i64>
      return %c : tensor<i64>
    })";
  auto module = parseSourceString<ModuleOp>(source, &ctx);
  ASSERT_TRUE(module);
  auto two = runFunction(*module, {}, "two");
  ASSERT_TRUE((bool)two);
  EXPECT_EQ((*two)["result0"].i, (std::vector<int64_t>{2}));
  auto ambiguous = runFunction(*module, {});
  ASSERT_FALSE((bool)ambiguous);
  EXPECT_NE(llvm::toString(ambiguous.takeError()).find("several functions"),
            std::string::npos);
}

} // namespace
