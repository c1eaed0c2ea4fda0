//===- PlanReport.cpp - the HTML page of a compression search -------------===//
//
// One file a browser opens offline: CSS and SVG inline, no scripts. The
// charts are drawn here from the numbers of the plan, in the order a reader
// asks: did it meet the budget and what did it save (totals), which layers
// are fragile (sensitivity bars), what each choice would have given
// (table), and where the chosen plan sits among the ones considered
// (Pareto chart).
//
//===----------------------------------------------------------------------===//

#include "Plan.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir::tfx;

namespace {

std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

// One colour per scheme, float first.
const char *const kColours[] = {"#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"};

/// A number in three significant digits (1.23e-04, 0.0123, 45.6).
std::string number(double v) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%.3g", v);
  return text;
}

const char *colour(size_t scheme) { return kColours[scheme % std::size(kColours)]; }

std::string megabytes(int64_t bytes) {
  return llvm::formatv("{0:F2} MB", bytes / 1e6).str();
}

std::string unitName(const PlanSummary &plan) {
  if (plan.budgetKind == "max-ppl-increase")
    return "perplexity increase (%)";
  if (plan.budgetKind == "min-agreement")
    return "top-1 agreement";
  return "relative L2 error";
}

/// The measure as a cost that grows with damage, for the charts.
double damage(const PlanSummary &plan, double additive) {
  double v = budgetValue(plan, additive);
  return plan.budgetKind == "min-agreement" ? 1 - v : v;
}

void totals(llvm::raw_ostream &os, const PlanSummary &plan) {
  os << "<h2>Before and after</h2>\n<table class=\"totals\">\n"
     << "<tr><th></th><th>float</th><th>plan</th><th>ratio</th></tr>\n";
  os << "<tr><td>linear weights</td><td>" << megabytes(plan.floatBytes) << "</td><td>"
     << megabytes(plan.bytes) << "</td><td>"
     << llvm::formatv("{0:F3}x", (double)plan.bytes / std::max<int64_t>(plan.floatBytes, 1))
     << "</td></tr>\n";
  os << "<tr><td>estimated linear time (" << escape(plan.target) << ")</td><td>"
     << llvm::formatv("{0:F2} ms", plan.floatSeconds * 1e3) << "</td><td>"
     << llvm::formatv("{0:F2} ms", plan.seconds * 1e3) << "</td><td>"
     << llvm::formatv("{0:F3}x", plan.seconds / std::max(plan.floatSeconds, 1e-30))
     << "</td></tr>\n</table>\n";
  os << "<table class=\"checks\">\n<tr><th>set</th><th>" << escape(unitName(plan))
     << "</th><th>budget</th><th>result</th><th>fidelity</th></tr>\n";
  for (const PlanCheck &c : plan.checks)
    os << "<tr><td>" << escape(c.set) << "</td><td>" << llvm::formatv("{0:G4}", c.value)
       << "</td><td>" << llvm::formatv("{0:G4}", plan.budget) << "</td><td class=\""
       << (c.meets ? "ok\">meets" : "miss\">misses") << "</td><td>" << escape(c.summary)
       << "</td></tr>\n";
  if (plan.checks.empty())
    os << "<tr><td colspan=\"5\">no plan met the budget; the model stays in float</td></tr>\n";
  os << "</table>\n";
}

/// Horizontal bars, one group per layer, one bar per scheme, on a log
/// scale of the measure (each layer changed alone).
void sensitivityChart(llvm::raw_ostream &os, const PlanSummary &plan) {
  double lo = INFINITY, hi = 0;
  for (const PlanLayer &l : plan.layers)
    for (size_t k = 1; k < l.choices.size(); ++k)
      if (l.choices[k].available) {
        double v = damage(plan, std::max(l.choices[k].cost, 0.0));
        if (v > 0) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
  if (!(hi > 0)) {
    os << "<p>No layer changed the outputs measurably.</p>\n";
    return;
  }
  double top = std::ceil(std::log10(hi)), bottom = std::floor(std::log10(lo));
  if (top - bottom < 1)
    bottom = top - 1;
  const int labelWidth = 330, barWidth = 420, bar = 7;
  size_t schemes = plan.schemes.size() - 1;
  int groupHeight = (int)(schemes * bar) + 8;
  int height = 30 + (int)plan.layers.size() * groupHeight + 20;
  os << "<svg class=\"chart\" role=\"img\" aria-label=\"sensitivity per layer\" width=\""
     << labelWidth + barWidth + 90 << "\" height=\"" << height << "\">\n";
  // Decade grid.
  for (double d = bottom; d <= top; d += 1) {
    double x = labelWidth + (d - bottom) / (top - bottom) * barWidth;
    os << llvm::formatv("<line x1=\"{0:F1}\" y1=\"22\" x2=\"{0:F1}\" y2=\"{1}\" "
                        "class=\"grid\"/><text x=\"{0:F1}\" y=\"16\" "
                        "class=\"axis\">1e{2}</text>\n",
                        x, height - 18, (int)d);
  }
  if (plan.budgetKind != "min-agreement" || plan.budget < 1) {
    double b = plan.budgetKind == "min-agreement" ? 1 - plan.budget : plan.budget;
    if (b > 0) {
      double x = labelWidth + (std::clamp(std::log10(b), bottom, top) - bottom) /
                                  (top - bottom) * barWidth;
      os << llvm::formatv("<line x1=\"{0:F1}\" y1=\"22\" x2=\"{0:F1}\" y2=\"{1}\" "
                          "class=\"budget\"/><text x=\"{0:F1}\" y=\"{2}\" "
                          "class=\"axis\">budget</text>\n",
                          x, height - 18, height - 4);
    }
  }
  int y = 30;
  for (const PlanLayer &l : plan.layers) {
    os << "<g class=\"layer\" data-name=\"" << escape(l.name) << "\"><text x=\""
       << labelWidth - 6 << "\" y=\"" << y + groupHeight / 2 << "\" class=\"label\">"
       << escape(l.name) << "</text>\n";
    for (size_t k = 1; k < l.choices.size(); ++k) {
      const PlanChoice &c = l.choices[k];
      int by = y + (int)(k - 1) * bar;
      if (!c.available)
        continue;
      double v = damage(plan, std::max(c.cost, 0.0));
      double w = v > 0 ? (std::log10(v) - bottom) / (top - bottom) * barWidth : 0;
      w = std::clamp(w, 1.0, (double)barWidth);
      os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2:F1}\" height=\"{3}\" "
                          "fill=\"{4}\"{5}><title>{6}: {7}</title></rect>\n",
                          labelWidth, by, w, bar - 1, colour(k),
                          k == l.chosen ? " class=\"chosen\"" : "", escape(c.scheme), number(v));
    }
    os << "</g>\n";
    y += groupHeight;
  }
  os << "</svg>\n";
}

void legend(llvm::raw_ostream &os, const PlanSummary &plan) {
  os << "<p class=\"legend\">";
  for (size_t k = 0; k < plan.schemes.size(); ++k)
    os << "<span><svg width=\"12\" height=\"12\"><rect width=\"12\" height=\"12\" fill=\""
       << colour(k) << "\"/></svg> " << escape(plan.schemes[k]) << "</span> ";
  os << "</p>\n";
}

void choiceTable(llvm::raw_ostream &os, const PlanSummary &plan) {
  os << "<h2>Each choice, one layer at a time</h2>\n<p>Bytes stored, estimated time of "
        "the layer and the "
     << escape(unitName(plan))
     << " of the model with only that layer changed; the chosen scheme is marked.</p>\n"
     << "<table class=\"choices\">\n<tr><th>linear</th><th>role</th><th>shape</th>";
  for (const std::string &s : plan.schemes)
    os << "<th>" << escape(s) << "</th>";
  os << "</tr>\n";
  for (const PlanLayer &l : plan.layers) {
    os << "<tr><td>" << escape(l.name) << "</td><td>" << escape(l.role) << "</td><td>"
       << l.out << "x" << l.in << "</td>";
    for (size_t k = 0; k < l.choices.size(); ++k) {
      const PlanChoice &c = l.choices[k];
      os << "<td" << (k == l.chosen ? " class=\"chosen\"" : "") << ">";
      if (!c.available)
        os << "<span class=\"na\">" << escape(c.why) << "</span>";
      else
        os << llvm::formatv("{0:F1} KB<br>{1:F3} ms<br>", c.bytes / 1e3, c.seconds * 1e3)
           << number(k == 0 ? budgetValue(plan, 0) : budgetValue(plan, c.cost));
      os << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table>\n";
}

/// Objective against predicted damage for every plan considered; the
/// Pareto front (no other plan both smaller/faster and less damaged) as a
/// line; the chosen plan as a large marker.
void paretoChart(llvm::raw_ostream &os, const PlanSummary &plan) {
  bool latency = plan.objective == "latency";
  auto objective = [&](const PlanPoint &p) {
    return latency ? p.seconds / std::max(plan.floatSeconds, 1e-30)
                   : (double)p.bytes / std::max<int64_t>(plan.floatBytes, 1);
  };
  auto x = [&](const PlanPoint &p) { return damage(plan, p.cost); };
  // Damage on a log scale (uniform plans of aggressive schemes lie decades
  // beyond the budget); no damage at the left edge.
  double lo = INFINITY, hi = 0, yMax = 1.05;
  double b = plan.budgetKind == "min-agreement" ? 1 - plan.budget : plan.budget;
  for (const PlanPoint &p : plan.points) {
    if (x(p) > 0) {
      lo = std::min(lo, x(p));
      hi = std::max(hi, x(p));
    }
    yMax = std::max(yMax, objective(p));
  }
  if (b > 0) {
    lo = std::min(lo, b);
    hi = std::max(hi, b);
  }
  if (!(hi > 0))
    lo = hi = 1;
  double first = std::floor(std::log10(lo)), last = std::ceil(std::log10(hi));
  if (last - first < 1)
    last = first + 1;
  const int w = 640, h = 380, left = 60, bottom = 40, right = 20, topMargin = 16;
  auto px = [&](double v) {
    double t = v > 0 ? (std::log10(v) - first) / (last - first) : 0;
    return left + std::clamp(t, 0.0, 1.0) * (w - left - right);
  };
  auto py = [&](double v) { return h - bottom - v / yMax * (h - bottom - topMargin); };
  os << "<svg class=\"chart\" role=\"img\" aria-label=\"candidate plans\" width=\"" << w
     << "\" height=\"" << h << "\">\n";
  os << llvm::formatv("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"axisline\"/>"
                      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{3}\" class=\"axisline\"/>\n",
                      left, h - bottom, w - right, topMargin);
  for (double d = first; d <= last; d += 1)
    os << llvm::formatv("<text x=\"{0:F1}\" y=\"{1}\" class=\"axis\">1e{2}</text>\n",
                        px(std::pow(10.0, d)), h - bottom + 14, (int)d);
  for (int t = 0; t <= 4; ++t) {
    double yv = yMax * t / 4;
    os << llvm::formatv("<text x=\"{0}\" y=\"{1:F1}\" class=\"axis end\">{2:F2}</text>\n",
                        left - 4, py(yv) + 4, yv);
  }
  os << "<text x=\"" << (left + w) / 2 << "\" y=\"" << h - 6
     << "\" class=\"axis\">predicted " << escape(unitName(plan))
     << (plan.budgetKind == "min-agreement" ? " loss" : "") << " (log scale)</text>\n"
     << "<text x=\"14\" y=\"" << h / 2 << "\" class=\"axis\" transform=\"rotate(-90 14 "
     << h / 2 << ")\">" << (latency ? "estimated time" : "weight bytes") << " vs float</text>\n";
  if (b > 0)
    os << llvm::formatv("<line x1=\"{0:F1}\" y1=\"{1}\" x2=\"{0:F1}\" y2=\"{2}\" "
                        "class=\"budget\"/><text x=\"{0:F1}\" y=\"{3}\" "
                        "class=\"axis\">budget</text>\n",
                        px(b), topMargin, h - bottom, topMargin + 10);
  // The front: sorted by damage, keep points that lower the objective.
  std::vector<const PlanPoint *> sorted;
  for (const PlanPoint &p : plan.points)
    sorted.push_back(&p);
  llvm::stable_sort(sorted, [&](const PlanPoint *a, const PlanPoint *c) {
    return x(*a) < x(*c) || (x(*a) == x(*c) && objective(*a) < objective(*c));
  });
  std::string path;
  double best = INFINITY;
  for (const PlanPoint *p : sorted)
    if (objective(*p) < best) {
      best = objective(*p);
      path += llvm::formatv("{0}{1:F1},{2:F1} ", path.empty() ? "M" : "L", px(x(*p)),
                            py(objective(*p)))
                  .str();
    }
  os << "<path d=\"" << path << "\" class=\"front\"/>\n";
  for (const PlanPoint &p : plan.points) {
    std::string title =
        p.label + ": " + number(x(p)) + llvm::formatv(", {0:F3}x", objective(p)).str();
    if (p.measured >= 0)
      title += " (measured " + number(damage(plan, p.measured)) + ")";
    if (p.kind == "chosen")
      os << llvm::formatv("<circle cx=\"{0:F1}\" cy=\"{1:F1}\" r=\"9\" class=\"chosen-point\">"
                          "<title>{2}</title></circle><text x=\"{3:F1}\" y=\"{4:F1}\" "
                          "class=\"axis start\">chosen</text>\n",
                          px(x(p)), py(objective(p)), escape(title), px(x(p)) + 12,
                          py(objective(p)) - 10);
    else
      os << llvm::formatv("<circle cx=\"{0:F1}\" cy=\"{1:F1}\" r=\"{2}\" class=\"{3}\">"
                          "<title>{4}</title></circle>\n",
                          px(x(p)), py(objective(p)), p.kind == "step" ? 3 : 5, p.kind,
                          escape(title));
    if (p.kind == "uniform")
      os << llvm::formatv("<text x=\"{0:F1}\" y=\"{1:F1}\" class=\"axis start\">{2}</text>\n",
                          px(x(p)) + 7, py(objective(p)) + 4, escape(p.label));
  }
  os << "</svg>\n<p class=\"legend\">Small dots: the knapsack's optimum within 0.1x to 2x the budget; labelled dots: "
        "one scheme everywhere (predicted); purple: verification attempts; green line: the "
        "Pareto front (plans no other plan beats on both axes); ringed: the chosen plan.</p>\n";
}

} // namespace

std::string mlir::tfx::renderPlanHtml(const PlanSummary &plan) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<title>tfx compression plan</title>\n<style>\n"
     << "body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1100px}\n"
     << "table{border-collapse:collapse;margin:8px 0 16px}\n"
     << "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;vertical-align:top}\n"
     << "td:first-child,th:first-child{text-align:left}\n"
     << "td.chosen{background:#e4f1e4;font-weight:bold}\n"
     << "td.ok{color:#1a7f1a;font-weight:bold}td.miss{color:#b00;font-weight:bold}\n"
     << ".na{color:#999;font-size:12px}\n"
     << ".chart text{font:11px sans-serif;fill:#333}\n"
     << ".chart .label{text-anchor:end}.chart .axis{text-anchor:middle}\n"
     << ".chart .end{text-anchor:end}.chart .start{text-anchor:start}\n"
     << ".grid{stroke:#ddd}.axisline{stroke:#555}\n"
     << ".budget{stroke:#b00;stroke-dasharray:4 3}\n"
     << "rect.chosen{stroke:#000;stroke-width:1.5}\n"
     << ".front{fill:none;stroke:#2ca02c;stroke-width:2}\n"
     << "circle.step{fill:#1f77b4;opacity:.6}circle.uniform{fill:#ff7f0e}\n"
     << "circle.tried{fill:#9467bd}\n"
     << ".chosen-point{fill:none;stroke:#d62728;stroke-width:3}\n"
     << ".legend span{margin-right:14px}\n</style>\n</head>\n<body>\n";
  os << "<h1>Compression plan</h1>\n<p>Budget: <b>" << escape(plan.budgetKind) << " "
     << llvm::formatv("{0:G4}", plan.budget) << "</b>; objective: <b>"
     << escape(plan.objective) << "</b>; target: <b>" << escape(plan.target) << "</b>; "
     << plan.layers.size() << " linears, " << plan.attempts << " verification attempt"
     << (plan.attempts == 1 ? "" : "s") << ".</p>\n";
  totals(os, plan);
  os << "<h2>Sensitivity of each layer</h2>\n<p>The " << escape(unitName(plan))
     << " with one layer changed to one scheme (log scale); outlined: the chosen "
        "scheme.</p>\n";
  legend(os, plan);
  sensitivityChart(os, plan);
  os << "<h2>Candidate plans</h2>\n";
  paretoChart(os, plan);
  choiceTable(os, plan);
  os << "<h2>Pipeline</h2>\n<pre>" << escape(plan.pipeline.empty() ? "(none)" : plan.pipeline)
     << "</pre>\n</body>\n</html>\n";
  return text;
}
