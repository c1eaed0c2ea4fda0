//===- Plan.h - a compression plan and what its search saw ------*- C++ -*-===//
//
// tfx-auto-compress decides one scheme per linear layer. The plan records,
// for every linear, what each scheme would store, how long it would take
// (the target's cost table) and what it cost in fidelity when applied to
// that linear alone; the plans the search visited; the checks of the chosen
// plan; and the pass pipeline that applies it. The same record is written
// as the plan file (JSON, replayed by `tfx-compile --plan`) and drawn as
// the HTML report.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_PASSES_PLAN_H
#define TFX_PASSES_PLAN_H

#include "llvm/Support/JSON.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::tfx {

struct PlanChoice {
  std::string scheme;
  bool available = false;
  /// Why a scheme does not apply to this linear (shape, no saving).
  std::string why;
  int64_t bytes = 0;
  double seconds = 0;
  /// The budget's additive measure with only this linear changed.
  double cost = 0;
};

struct PlanLayer {
  std::string name, role;
  int64_t out = 0, in = 0, rows = 0;
  /// choices[0] is float.
  std::vector<PlanChoice> choices;
  size_t chosen = 0;
};

/// A plan the search considered: a greedy step, a uniform scheme, or the
/// chosen plan. `cost` is the predicted sum; `measured` the verified one
/// (negative when not run).
struct PlanPoint {
  std::string label, kind; // kind: step, uniform, chosen
  double cost = 0, measured = -1;
  int64_t bytes = 0;
  double seconds = 0;
};

struct PlanCheck {
  std::string set;  // calibration, held-out
  double value = 0; // in the budget's own unit (ppl increase %, agreement, rel L2)
  bool meets = false;
  std::string summary;
};

struct PlanSummary {
  std::string budgetKind, objective, target;
  /// The budget as the user stated it, and as an additive limit.
  double budget = 0, limit = 0;
  std::vector<std::string> schemes; // float first
  std::vector<PlanLayer> layers;
  std::vector<PlanPoint> points;
  std::vector<PlanCheck> checks;
  int64_t floatBytes = 0, bytes = 0;
  double floatSeconds = 0, seconds = 0;
  int attempts = 0;
  std::string pipeline;
};

/// The plan file: everything above, with the pipeline that replays it.
llvm::json::Value planToJson(const PlanSummary &plan);

/// One self-contained HTML page (inline SVG, no scripts): sensitivity bars
/// per layer, each choice's size, latency and fidelity, the candidate plans
/// with their Pareto front and the chosen one marked, before/after totals.
std::string renderPlanHtml(const PlanSummary &plan);

/// The budget measure in the user's unit: a cross-entropy increase as a
/// perplexity increase in percent, squared rel L2 as rel L2, disagreement
/// as agreement.
double budgetValue(const PlanSummary &plan, double additive);

} // namespace mlir::tfx

#endif // TFX_PASSES_PLAN_H
