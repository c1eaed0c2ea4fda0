//===- Evaluate.cpp - tfx-run --perplexity --------------------------------===//

#include "Evaluate.h"

#include "tfx/Support/LanguageModelMetrics.h"
#include "tfx/Support/SafeTensors.h"

#include "llvm/Support/Format.h"

using namespace mlir::tfx;
using llvm::StringRef;

/// The model's `logits` output ([rows, seq, vocab], as Hugging Face and its
/// ONNX exports name it).
static llvm::Expected<Tensor> takeLogits(std::map<std::string, Tensor> outputs,
                                         StringRef modelPath) {
  auto it = outputs.find("logits");
  if (it != outputs.end())
    return std::move(it->second);
  std::string names;
  for (const auto &entry : outputs)
    names += (names.empty() ? "" : ", ") + entry.first;
  return llvm::createStringError(
      "'%s' has no 'logits' output (a language model's [rows, seq, vocab]); "
      "its outputs: %s",
      modelPath.str().c_str(), names.c_str());
}

llvm::Error mlir::tfx::evaluatePerplexity(StringRef modelPath,
                                          StringRef comparePath,
                                          StringRef tokensPath, int64_t maxRows,
                                          ImportOptions options, RunModelFn run,
                                          llvm::raw_ostream &os) {
  auto file = SafeTensorsFile::open(tokensPath);
  if (!file)
    return file.takeError();
  StringRef name = (*file)->find("input_ids") ? "input_ids" : "input.input_ids";
  if (!(*file)->find(name))
    return llvm::createStringError("'%s' holds no 'input_ids' tensor",
                                   tokensPath.str().c_str());
  auto ids = (*file)->read(name);
  if (!ids)
    return ids.takeError();
  if (ids->isFloat() || ids->rank() != 2 || ids->shape[1] < 2)
    return llvm::createStringError(
        "'%s': %s must be integer token ids [rows, seq >= 2], not %s %s",
        tokensPath.str().c_str(), name.str().c_str(),
        std::string(dtypeName(ids->dtype)).c_str(),
        ids->shapeString().c_str());
  int64_t rows = ids->shape[0], seq = ids->shape[1];
  if (maxRows > 0 && maxRows < rows) {
    ids->i.resize(maxRows * seq);
    ids->shape[0] = rows = maxRows;
  }

  std::map<std::string, Tensor> inputs;
  inputs["input_ids"] = *ids;
  inputs["attention_mask"] = Tensor::ints({rows, seq}, 1, ids->dtype);
  options.inputShapes["input_ids"] = {rows, seq};
  options.inputShapes["attention_mask"] = {rows, seq};

  auto runOne = [&](StringRef path) -> llvm::Expected<Tensor> {
    auto outputs = run(path, options, inputs);
    if (!outputs)
      return outputs.takeError();
    return takeLogits(std::move(*outputs), path);
  };
  auto logits = runOne(modelPath);
  if (!logits)
    return logits.takeError();
  auto loss = nextTokenLoss(*logits, *ids);
  if (!loss)
    return loss.takeError();
  os << "perplexity " << llvm::format("%.4f", loss->perplexity()) << " over "
     << rows << " rows x " << seq - 1 << " predicted tokens ("
     << loss->tokens << ")\n";
  if (comparePath.empty())
    return llvm::Error::success();

  auto reference = runOne(comparePath);
  if (!reference)
    return reference.takeError();
  auto referenceLoss = nextTokenLoss(*reference, *ids);
  if (!referenceLoss)
    return referenceLoss.takeError();
  auto agreement = topOneAgreement(*logits, *reference);
  if (!agreement)
    return agreement.takeError();
  double ppl = loss->perplexity(), refPpl = referenceLoss->perplexity();
  os << "reference perplexity " << llvm::format("%.4f", refPpl) << " ("
     << llvm::format("%+.2f%%", 100.0 * (ppl - refPpl) / refPpl) << ")\n";
  os << "top-1 agreement " << llvm::format("%.4f", agreement->rate()) << " ("
     << agreement->same << " of " << agreement->total
     << " positions), max |logit difference| "
     << llvm::format("%.3e", agreement->maxAbsDiff) << "\n";
  return llvm::Error::success();
}
