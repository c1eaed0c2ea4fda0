//===- CalibrationTest.cpp - calibration sets, observers, fidelity --------===//

#include "tfx/Calibration/Calibration.h"
#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Support/SafeTensors.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::tfx;

namespace {

class CalibrationTest : public ::testing::Test {
protected:
  CalibrationTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
    module = parseSourceString<ModuleOp>(R"(
      func.func @main(%ids: tensor<2x3xi64> {tfx.name = "input_ids"},
                      %mask: tensor<2x3xi64> {tfx.name = "attention_mask"})
          -> (tensor<2x3xf32> {tfx.name = "logits"}) {
        %0 = tfx.add %ids, %mask : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
        %1 = tfx.cast %0 : tensor<2x3xi64> -> tensor<2x3xf32>
        return %1 : tensor<2x3xf32>
      })",
                                         &ctx);
    EXPECT_TRUE(module);
  }

  std::string writeFile(const std::map<std::string, Tensor> &tensors) {
    llvm::SmallString<128> path;
    EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("calib", "safetensors", path));
    EXPECT_FALSE((bool)writeSafeTensors(path, tensors));
    files.push_back(path.str().str());
    return path.str().str();
  }

  ~CalibrationTest() override {
    for (const std::string &f : files)
      llvm::sys::fs::remove(f);
  }

  func::FuncOp main() { return *module->getOps<func::FuncOp>().begin(); }

  MLIRContext ctx;
  OwningOpRef<ModuleOp> module;
  std::vector<std::string> files;
};

Tensor ints(std::vector<int64_t> shape, int64_t first) {
  Tensor t = Tensor::ints(std::move(shape));
  for (size_t n = 0; n < t.i.size(); ++n)
    t.i[n] = first + (int64_t)n;
  return t;
}

TEST_F(CalibrationTest, SplitsRowsIntoBatchesAndFillsTheMask) {
  std::string path = writeFile({{"input_ids", ints({6, 3}, 0)}});
  auto set = loadCalibrationSet(path, main());
  ASSERT_TRUE((bool)set) << llvm::toString(set.takeError());
  ASSERT_EQ(set->batches.size(), 3u);
  EXPECT_EQ(set->batches[1].at("input_ids").i,
            (std::vector<int64_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(set->batches[2].at("attention_mask").i, std::vector<int64_t>(6, 1));

  auto two = loadCalibrationSet(path, main(), 2);
  ASSERT_TRUE((bool)two);
  EXPECT_EQ(two->batches.size(), 2u);

  // The observer sees every computed op and may change its result.
  int seen = 0;
  auto outputs = runCalibration(
      *module, *two, [&](Operation *op, llvm::ArrayRef<const Tensor *>, Tensor &r) {
        ++seen;
        if (isa<CastOp>(op))
          r.f[0] = -1;
      });
  ASSERT_TRUE((bool)outputs);
  EXPECT_EQ(seen, 4); // add and cast, two batches
  EXPECT_EQ((*outputs)[1].at("logits").f[0], -1.0f);
  EXPECT_EQ((*outputs)[1].at("logits").f[1], 8.0f);
}

TEST_F(CalibrationTest, RejectsMismatchedInputs) {
  std::string odd = writeFile({{"input.input_ids", ints({5, 3}, 0)}});
  auto set = loadCalibrationSet(odd, main());
  ASSERT_FALSE((bool)set);
  EXPECT_NE(llvm::toString(set.takeError()).find("dimension 0 a multiple of 2"),
            std::string::npos);
  std::string uneven = writeFile(
      {{"input_ids", ints({4, 3}, 0)}, {"attention_mask", ints({6, 3}, 0)}});
  auto set2 = loadCalibrationSet(uneven, main());
  ASSERT_FALSE((bool)set2);
  EXPECT_NE(llvm::toString(set2.takeError()).find("batches"), std::string::npos);
  std::string none = writeFile({{"other", ints({2, 3}, 0)}});
  auto set3 = loadCalibrationSet(none, main());
  ASSERT_FALSE((bool)set3);
  EXPECT_NE(llvm::toString(set3.takeError()).find("no tensor 'input.input_ids'"),
            std::string::npos);
}

TEST_F(CalibrationTest, ComparesOutputs) {
  Tensor ref = Tensor::floats({2, 2});
  ref.f = {1, 0, 0, 1};
  Tensor got = ref;
  got.f = {1, 0, 0.5f, 0.25f}; // row 1 flips its argmax
  std::vector<TensorMap> a = {{{"logits", ref}}}, b = {{{"logits", got}}};
  auto fidelity = compareOutputs(a, b);
  ASSERT_TRUE((bool)fidelity);
  const OutputFidelity &o = fidelity->outputs[0];
  EXPECT_DOUBLE_EQ(o.maxAbs, 0.75);
  EXPECT_DOUBLE_EQ(o.meanAbs, (0.5 + 0.75) / 4);
  EXPECT_DOUBLE_EQ(o.relL2, std::sqrt((0.25 + 0.5625) / 2));
  EXPECT_DOUBLE_EQ(o.top1, 0.5);
  EXPECT_NEAR(o.cosine, (1 + 0.25 / std::sqrt(0.3125)) / 2, 1e-12);
  EXPECT_NE(fidelity->summary().find("top1 50.00%"), std::string::npos);

  std::vector<TensorMap> renamed = {{{"hidden", ref}}};
  auto missing = compareOutputs(a, renamed);
  EXPECT_FALSE((bool)missing);
  llvm::consumeError(missing.takeError());
}

} // namespace
