//===- AutoCompressTest.cpp - plan pieces of automatic compression --------===//
//
// The names a plan lists must find the linears a pass rewrote, whatever
// suffixes the passes (and MLIR's blob naming) appended, and the budget's
// additive measures must convert back to the user's units.
//
//===----------------------------------------------------------------------===//

#include "passes/Plan.h"
#include "passes/Weights.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mlir::tfx;

TEST(AutoCompress, SourceWeightNames) {
  EXPECT_EQ(sourceWeightName("h.0.attn.weight"), "h.0.attn.weight");
  EXPECT_EQ(sourceWeightName("h.0.attn.weight.q8"), "h.0.attn.weight");
  EXPECT_EQ(sourceWeightName("h.0.attn.weight.lowrank_a.q4"), "h.0.attn.weight");
  EXPECT_EQ(sourceWeightName("h.0.attn.weight.values.q8"), "h.0.attn.weight");
  // A blob name MLIR made unique.
  EXPECT_EQ(sourceWeightName("h.0.attn.weight.lowrank_b_3"), "h.0.attn.weight");
  EXPECT_EQ(sourceWeightName("h.0.attn.weight.q8_12"), "h.0.attn.weight");
  // A file's own name that ends in digits is kept.
  EXPECT_EQ(sourceWeightName("onnx::MatMul_123"), "onnx::MatMul_123");
  EXPECT_EQ(sourceWeightName("layer_2"), "layer_2");
}

TEST(AutoCompress, BudgetUnits) {
  PlanSummary plan;
  plan.budgetKind = "max-ppl-increase";
  // exp(mean NLL increase) - 1, in percent.
  EXPECT_NEAR(budgetValue(plan, std::log1p(0.02)), 2.0, 1e-12);
  plan.budgetKind = "min-agreement";
  EXPECT_NEAR(budgetValue(plan, 0.01), 0.99, 1e-12);
  plan.budgetKind = "max-error";
  EXPECT_NEAR(budgetValue(plan, 0.0025), 0.05, 1e-12);
}
