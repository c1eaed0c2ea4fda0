//===- Fidelity.cpp - compare a transformed model's outputs ---------------===//

#include "tfx/Calibration/Calibration.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {
struct Accumulator {
  double maxAbs = 0, sumAbs = 0, diffSq = 0, refSq = 0, cosSum = 0;
  int64_t count = 0, rows = 0, agree = 0;
};
} // namespace

llvm::Expected<Fidelity>
mlir::tfx::compareOutputs(const std::vector<TensorMap> &reference,
                          const std::vector<TensorMap> &candidate) {
  if (reference.size() != candidate.size())
    return makeError("compared " + llvm::Twine(candidate.size()) +
                     " batches with " + llvm::Twine(reference.size()));
  std::map<std::string, Accumulator> acc;
  for (size_t b = 0; b < reference.size(); ++b) {
    for (const auto &[name, ref] : reference[b]) {
      auto it = candidate[b].find(name);
      if (it == candidate[b].end())
        return makeError("the transformed model has no output '" + name + "'");
      const Tensor &got = it->second;
      if (got.shape != ref.shape || !ref.isFloat() || !got.isFloat())
        return makeError("output '" + name + "' is " + got.shapeString() +
                         ", the reference " + ref.shapeString() +
                         " (both must be float)");
      Accumulator &a = acc[name];
      int64_t cols = ref.shape.empty() ? 1 : ref.shape.back();
      int64_t rows = cols ? ref.numElements() / cols : 0;
      bool logits = llvm::StringRef(name).contains("logits");
      for (int64_t r = 0; r < rows; ++r) {
        double dot = 0, nr = 0, ng = 0;
        int64_t argRef = 0, argGot = 0;
        for (int64_t c = 0; c < cols; ++c) {
          double x = ref.f[r * cols + c], y = got.f[r * cols + c];
          double d = std::fabs(x - y);
          a.maxAbs = std::max(a.maxAbs, std::isnan(d) ? INFINITY : d);
          a.sumAbs += d;
          a.diffSq += d * d;
          a.refSq += x * x;
          dot += x * y;
          nr += x * x;
          ng += y * y;
          if (x > ref.f[r * cols + argRef])
            argRef = c;
          if (y > got.f[r * cols + argGot])
            argGot = c;
        }
        a.cosSum += (nr > 0 && ng > 0) ? dot / std::sqrt(nr * ng)
                                       : (nr == ng ? 1.0 : 0.0);
        if (logits)
          a.agree += argRef == argGot;
      }
      a.count += ref.numElements();
      a.rows += rows;
    }
  }
  Fidelity fidelity;
  for (const auto &[name, a] : acc) {
    OutputFidelity o;
    o.name = name;
    o.maxAbs = a.maxAbs;
    o.meanAbs = a.count ? a.sumAbs / a.count : 0;
    o.relL2 = a.refSq > 0 ? std::sqrt(a.diffSq / a.refSq) : std::sqrt(a.diffSq);
    o.cosine = a.rows ? a.cosSum / a.rows : 1;
    o.rows = a.rows;
    if (llvm::StringRef(name).contains("logits"))
      o.top1 = a.rows ? (double)a.agree / a.rows : 1;
    fidelity.outputs.push_back(o);
  }
  return fidelity;
}

std::string Fidelity::summary() const {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      outputs, os,
      [&](const OutputFidelity &o) {
        os << o.name << ": rel_l2 " << llvm::format("%.3e", o.relL2) << ", cos "
           << llvm::format("%.6f", o.cosine) << ", max_abs "
           << llvm::format("%.3e", o.maxAbs);
        if (o.top1 >= 0)
          os << ", top1 " << llvm::format("%.2f%%", 100 * o.top1);
        os << " (" << o.rows << " rows)";
      },
      "; ");
  return s;
}

double Fidelity::worstRelL2() const {
  double worst = 0;
  for (const OutputFidelity &o : outputs)
    worst = std::max(worst, o.relL2);
  return worst;
}
