//===- Report.cpp - the fidelity report of a compressed model -------------===//
//
// The layer table comes from the compressed IR itself (what a
// `tfx.dequantize`, a sparse format or a `tfx.quantize_activations` says),
// so it describes any pipeline, not only --quantize. The fidelity numbers
// run both modules on the interpreter over the same batches.
//
//===----------------------------------------------------------------------===//

#include "tfx/Passes/Report.h"

#include "CompressionReport.h"
#include "Structure.h"
#include "Weights.h"
#include "tfx/Calibration/Calibration.h"
#include "tfx/Support/LanguageModelMetrics.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <optional>

using namespace mlir;
using namespace mlir::tfx;

namespace {

struct LayerRow {
  std::string name, role, weights, activations;
  int64_t out = 0, in = 0;
  int64_t floatBytes = 0, bytes = 0;
  /// Bits per weight and per input activation (32: float).
  int64_t weightBits = 32, activationBits = 32;
  bool changed = false;
};

struct SetRow {
  std::string label, path;
  int64_t batches = 0;
  Fidelity fidelity;
  /// Next-token perplexity of the float and compressed models (language
  /// models: an output named *logits* and an input_ids input).
  std::optional<NextTokenLoss> floatLoss, compressedLoss;
};

/// Bytes the value of a linear's weight operand is stored in: a weight's
/// own, or the sum of the stored operands of the format op that makes it.
int64_t valueBytes(Value v) {
  if (isWeightValue(v))
    return storedBytes(v.getType());
  Operation *def = v.getDefiningOp();
  if (!def || !isa<DequantizeOp, Sparse24Op, SparseCsrOp>(def))
    return 0;
  int64_t sum = 0;
  for (Value operand : def->getOperands())
    sum += valueBytes(operand);
  return sum;
}

std::string stripSuffix(std::string name) {
  for (llvm::StringRef suffix : {".q8", ".q4"})
    if (llvm::StringRef(name).ends_with(suffix))
      return name.substr(0, name.size() - suffix.size());
  return name;
}

/// Roles by source weight name, from the float model (a compressed model's
/// structure may no longer match: int8 activations sit between the
/// attention and its output projection).
llvm::StringMap<std::string> rolesByName(func::FuncOp func) {
  llvm::DenseMap<Operation *, std::string> roles = linearRoles(func);
  llvm::StringMap<std::string> byName;
  func->walk([&](LinearOp linear) {
    std::string name = weightName(linear.getWeight());
    auto it = roles.find(linear);
    if (!name.empty() && it != roles.end())
      byName[sourceWeightName(name)] = it->second;
  });
  return byName;
}

LayerRow describe(LinearOp linear, llvm::StringRef role) {
  LayerRow row;
  auto type = cast<RankedTensorType>(linear.getWeight().getType());
  row.out = type.getDimSize(0);
  row.in = type.getDimSize(1);
  row.role = role.empty() ? "other" : role.str();
  row.floatBytes = row.out * row.in * 4;
  Value w = linear.getWeight();
  row.bytes = valueBytes(w);
  std::string sparse;
  if (auto s = w.getDefiningOp<Sparse24Op>()) {
    sparse = "2:4 ";
    w = s.getValues();
  } else if (auto csr = w.getDefiningOp<SparseCsrOp>()) {
    sparse = "csr ";
    w = csr.getValues();
  }
  if (auto dq = w.getDefiningOp<DequantizeOp>()) {
    auto q = cast<RankedTensorType>(dq.getQ().getType());
    int64_t group = dq.getGroupSize();
    row.name = stripSuffix(weightName(dq.getQ()));
    row.weightBits = q.getElementTypeBitWidth();
    row.weights = sparse + "int" + std::to_string(q.getElementTypeBitWidth()) +
                  (group >= q.getDimSize(1) ? std::string(" per channel")
                                            : " g" + std::to_string(group));
  } else {
    row.name = weightName(w);
    row.weights = sparse + "f32";
  }
  if (row.name.empty())
    row.name = "linear";
  row.activations = "f32";
  if (auto qa = linear.getInput().getDefiningOp<QuantizeActivationsOp>()) {
    row.activationBits = qa.getBits();
    if (quant::UniformQuantizedType t = qa.getStaticType())
      row.activations = llvm::formatv("{0}{1} static, scale {2:e3}{3}",
                                      t.isSigned() ? "int" : "uint",
                                      t.getStorageTypeIntegralWidth(), t.getScale(),
                                      t.getZeroPoint() ? ", zero point " +
                                                             std::to_string(t.getZeroPoint())
                                                       : std::string())
                            .str();
    else
      row.activations = "int" + std::to_string(qa.getBits()) + " per row (dynamic)";
  }
  row.changed = row.weights != "f32" || row.activations != "f32";
  return row;
}

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<SetRow> measureSet(ModuleOp original, ModuleOp compressed, llvm::StringRef label,
                                  llvm::StringRef path, int64_t batches) {
  auto func = findEntryFunction(original);
  if (!func)
    return func.takeError();
  auto set = loadCalibrationSet(path, *func, batches);
  if (!set)
    return failure(label + " set '" + path + "': " + llvm::toString(set.takeError()));
  auto reference = runCalibration(original, *set, nullptr, ("report: float model, " + label).str());
  if (!reference)
    return failure("the float model on the " + label + " set: " +
                   llvm::toString(reference.takeError()));
  auto candidate =
      runCalibration(compressed, *set, nullptr, ("report: compressed model, " + label).str());
  if (!candidate)
    return failure("the compressed model on the " + label + " set: " +
                   llvm::toString(candidate.takeError()));
  auto fidelity = compareOutputs(*reference, *candidate);
  if (!fidelity)
    return fidelity.takeError();
  SetRow row;
  row.label = label.str();
  row.path = path.str();
  row.batches = set->batches.size();
  row.fidelity = std::move(*fidelity);
  for (size_t b = 0; b < set->batches.size(); ++b) {
    auto ids = set->batches[b].find("input_ids");
    if (ids == set->batches[b].end())
      break;
    for (auto &[name, logits] : (*reference)[b]) {
      if (llvm::StringRef(name).find("logits") == llvm::StringRef::npos ||
          logits.shape.size() != 3)
        continue;
      auto base = nextTokenLoss(logits, ids->second);
      auto ours = nextTokenLoss((*candidate)[b].at(name), ids->second);
      if (!base || !ours) {
        llvm::consumeError(base.takeError());
        llvm::consumeError(ours.takeError());
        break;
      }
      if (!row.floatLoss) {
        row.floatLoss.emplace();
        row.compressedLoss.emplace();
      }
      *row.floatLoss += *base;
      *row.compressedLoss += *ours;
      break;
    }
  }
  return row;
}

std::string megabytes(int64_t bytes) { return llvm::formatv("{0:F2} MB", bytes / 1e6).str(); }

std::string ratio(double after, double before) {
  return before > 0 ? llvm::formatv("{0:F3}x", after / before).str() : std::string("-");
}

} // namespace

llvm::Expected<std::string> mlir::tfx::compressionReport(ModuleOp original, ModuleOp compressed,
                                                         const ReportOptions &options,
                                                         bool json) {
  auto func = findEntryFunction(compressed);
  if (!func)
    return func.takeError();
  auto originalFunc = findEntryFunction(original);
  if (!originalFunc)
    return originalFunc.takeError();
  llvm::DenseMap<Operation *, std::string> roles = linearRoles(*func);
  llvm::StringMap<std::string> floatRoles = rolesByName(*originalFunc);
  std::vector<LayerRow> layers;
  func->walk([&](LinearOp linear) {
    LayerRow row = describe(linear, roles.lookup(linear));
    if (!roles.count(linear)) {
      auto it = floatRoles.find(sourceWeightName(row.name));
      if (it != floatRoles.end())
        row.role = it->second;
    }
    layers.push_back(std::move(row));
  });
  int64_t changedFloat = 0, changedBytes = 0, allFloat = 0, allBytes = 0;
  for (const LayerRow &l : layers) {
    allFloat += l.floatBytes;
    allBytes += l.bytes;
    if (l.changed) {
      changedFloat += l.floatBytes;
      changedBytes += l.bytes;
    }
  }
  ModelCost before = measureModel(original), after = measureModel(compressed);

  std::vector<SetRow> sets;
  for (auto [label, path, batches] :
       {std::tuple<llvm::StringRef, llvm::StringRef, int64_t>{
            "calibration", options.calibrationPath, options.calibrationBatches},
        {"held-out", options.heldOutPath, options.heldOutBatches}}) {
    if (path.empty())
      continue;
    auto row = measureSet(original, compressed, label, path, batches);
    if (!row)
      return row.takeError();
    sets.push_back(std::move(*row));
  }

  std::string text;
  llvm::raw_string_ostream os(text);
  if (json) {
    llvm::json::OStream j(os, 2);
    j.object([&] {
      j.attribute("model", options.model);
      j.attribute("recipe", options.recipe);
      j.attributeObject("size", [&] {
        auto pair = [&](llvm::StringRef key, double a, double b) {
          j.attributeObject(key, [&] {
            j.attribute("before", a);
            j.attribute("after", b);
          });
        };
        pair("changed_linear_bytes", changedFloat, changedBytes);
        pair("linear_bytes", allFloat, allBytes);
        pair("weight_bytes", before.weightBytes, after.weightBytes);
        pair("params", before.params, after.params);
        pair("flops", before.flops, after.flops);
      });
      j.attributeArray("layers", [&] {
        for (const LayerRow &l : layers)
          j.object([&] {
            j.attribute("name", l.name);
            j.attribute("role", l.role);
            j.attributeArray("shape", [&] {
              j.value(l.out);
              j.value(l.in);
            });
            j.attribute("weights", l.weights);
            j.attribute("weight_bits", l.weightBits);
            j.attribute("activation_bits", l.activationBits);
            j.attribute("activations", l.activations);
            j.attribute("f32_bytes", l.floatBytes);
            j.attribute("bytes", l.bytes);
          });
      });
      j.attributeArray("fidelity", [&] {
        for (const SetRow &s : sets)
          j.object([&] {
            j.attribute("set", s.label);
            j.attribute("path", s.path);
            j.attribute("batches", s.batches);
            j.attributeArray("outputs", [&] {
              for (const OutputFidelity &o : s.fidelity.outputs)
                j.object([&] {
                  j.attribute("name", o.name);
                  j.attribute("rows", o.rows);
                  j.attribute("max_abs", o.maxAbs);
                  j.attribute("mean_abs", o.meanAbs);
                  j.attribute("cosine", o.cosine);
                  j.attribute("rel_l2", o.relL2);
                  if (o.top1 >= 0)
                    j.attribute("top1", o.top1);
                });
            });
            if (s.floatLoss)
              j.attributeObject("perplexity", [&] {
                j.attribute("float", s.floatLoss->perplexity());
                j.attribute("compressed", s.compressedLoss->perplexity());
                j.attribute("tokens", s.floatLoss->tokens);
              });
          });
      });
    });
    os << "\n";
    return text;
  }

  os << "# Compression report\n\n";
  os << "Model `" << options.model << "`";
  if (!options.recipe.empty())
    os << ", compressed with `" << options.recipe << "`";
  os << ".\n\n## Size\n\n";
  os << "| | float | compressed | ratio |\n|---|---:|---:|---:|\n";
  os << "| weights of the changed linears | " << megabytes(changedFloat) << " | "
     << megabytes(changedBytes) << " | " << ratio(changedBytes, changedFloat) << " |\n";
  os << "| all linear weights | " << megabytes(allFloat) << " | " << megabytes(allBytes) << " | "
     << ratio(allBytes, allFloat) << " |\n";
  os << "| whole model (every weight) | " << megabytes(before.weightBytes) << " | "
     << megabytes(after.weightBytes) << " | " << ratio(after.weightBytes, before.weightBytes)
     << " |\n";
  os << "| parameters | " << before.params << " | " << after.params << " | "
     << ratio(after.params, before.params) << " |\n";
  os << llvm::formatv("| GFLOP per call | {0:F3} | {1:F3} | {2} |\n", before.flops / 1e9,
                      after.flops / 1e9, ratio(after.flops, before.flops));
  os << "\nA linear's bytes are its stored weight: integers (int4 two to a byte), "
        "scales and sparse indices; biases are not counted.\n";

  os << "\n## Layers\n\n";
  os << "| # | linear | role | shape | weights | activations | f32 bytes | bytes | ratio |\n"
        "|---:|---|---|---|---|---|---:|---:|---:|\n";
  for (auto [n, l] : llvm::enumerate(layers))
    os << "| " << n << " | `" << l.name << "` | " << l.role << " | " << l.out << "x" << l.in
       << " | " << l.weights << " | " << l.activations << " | " << l.floatBytes << " | "
       << l.bytes << " | " << ratio(l.bytes, l.floatBytes) << " |\n";

  os << "\n## Fidelity against the float model\n\n";
  if (sets.empty()) {
    os << "Not measured: give --calibration or --held-out inputs.\n";
    return text;
  }
  os << "Both models run on the reference interpreter over the same inputs. A row is one "
        "vector of the output's last dimension (one token's logits); the cosine is the "
        "mean over rows, top-1 the share of rows whose argmax agrees.\n\n";
  os << "| set | batches | output | rows | max abs | mean abs | cosine | rel L2 | top-1 | "
        "perplexity float -> compressed |\n"
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n";
  for (const SetRow &s : sets)
    for (const OutputFidelity &o : s.fidelity.outputs) {
      os << llvm::formatv("| {0} | {1} | {2} | {3} | {4:e3} | {5:e3} | {6:F6} | {7:e3} | ",
                          s.label, s.batches, o.name, o.rows, o.maxAbs, o.meanAbs, o.cosine,
                          o.relL2);
      os << (o.top1 >= 0 ? llvm::formatv("{0:F2}%", 100 * o.top1).str() : std::string("-"))
         << " | ";
      if (s.floatLoss && llvm::StringRef(o.name).contains("logits"))
        os << llvm::formatv("{0:F3} -> {1:F3} ({2} tokens)", s.floatLoss->perplexity(),
                            s.compressedLoss->perplexity(), s.floatLoss->tokens);
      else
        os << "-";
      os << " |\n";
    }
  for (const SetRow &s : sets)
    os << "\n" << s.label << ": `" << s.path << "`.";
  os << "\n";
  return text;
}
