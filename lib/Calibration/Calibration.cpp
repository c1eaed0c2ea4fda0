//===- Calibration.cpp - run a model over calibration inputs --------------===//

#include "tfx/Calibration/Calibration.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/SafeTensors.h"
#include "tfx/Support/Tokenizer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string shapeOf(RankedTensorType type) {
  std::string s = "[";
  for (auto [n, d] : llvm::enumerate(type.getShape()))
    s += (n ? "," : "") + std::to_string(d);
  return s + "]";
}

/// Rows [first, first + count) of dimension 0 of `t`.
static Tensor rowsOf(const Tensor &t, int64_t first, int64_t count) {
  Tensor out;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.shape[0] = count;
  int64_t rowSize = out.numElements() / std::max<int64_t>(count, 1);
  if (t.isFloat())
    out.f.assign(t.f.begin() + first * rowSize,
                 t.f.begin() + (first + count) * rowSize);
  else
    out.i.assign(t.i.begin() + first * rowSize,
                 t.i.begin() + (first + count) * rowSize);
  return out;
}

/// input_ids [rows, S] from a text file: the text encoded with the
/// tokenizer.json beside the model's weights and cut into rows of S tokens
/// (WordPiece rows framed by [CLS] ... [SEP]), as many rows as make whole
/// batches of the model's input_ids [B, S].
static llvm::Expected<Tensor> textInputIds(llvm::StringRef path, func::FuncOp func) {
  std::vector<std::string> names = inputNames(func);
  auto at = llvm::find(names, "input_ids");
  auto type = at == names.end()
                  ? RankedTensorType()
                  : dyn_cast<RankedTensorType>(func.getArgument(at - names.begin()).getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return makeError(path + ": calibration text needs a model input 'input_ids' of static "
                            "shape [batch, sequence]");
  auto module = func->getParentOfType<ModuleOp>();
  auto weights = module ? module->getAttrOfType<StringAttr>(kWeightsAttr) : StringAttr();
  if (!weights)
    return makeError(path + ": calibration text needs the model's tokenizer.json, found beside "
                            "its weights, and the module names no weights file");
  llvm::SmallString<256> tokenizerPath(llvm::sys::path::parent_path(weights.getValue()));
  llvm::sys::path::append(tokenizerPath, "tokenizer.json");
  if (!llvm::sys::fs::exists(tokenizerPath))
    return makeError(path + ": calibration text needs the model's tokenizer: no " +
                     tokenizerPath + "");
  auto tokenizer = Tokenizer::open(tokenizerPath);
  if (!tokenizer)
    return tokenizer.takeError();
  auto text = llvm::MemoryBuffer::getFile(path);
  if (!text)
    return makeError(path + ": " + text.getError().message());
  std::vector<int64_t> ids = tokenizer->encode((*text)->getBuffer());
  int64_t batch = type.getDimSize(0), seq = type.getDimSize(1);
  int64_t cls = -1, sep = -1;
  if (tokenizer->kind() == Tokenizer::Kind::WordPiece) {
    cls = tokenizer->tokenId("[CLS]");
    sep = tokenizer->tokenId("[SEP]");
  }
  int64_t frame = (cls >= 0) + (sep >= 0), body = seq - frame;
  int64_t rows = body > 0 ? (int64_t)ids.size() / body / batch * batch : 0;
  if (rows == 0)
    return makeError(path + ": the text is " + llvm::Twine(ids.size()) +
                     " tokens, fewer than one batch of " + llvm::Twine(batch) + " x " +
                     llvm::Twine(seq));
  Tensor out = Tensor::ints({rows, seq}, 0, DType::I64);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t *row = out.i.data() + r * seq, k = 0;
    if (cls >= 0)
      row[k++] = cls;
    for (int64_t t = 0; t < body; ++t)
      row[k++] = ids[r * body + t];
    if (sep >= 0)
      row[k++] = sep;
  }
  return out;
}

llvm::Expected<CalibrationSet>
mlir::tfx::loadCalibrationSet(llvm::StringRef path, func::FuncOp func,
                              int64_t maxBatches) {
  // A .txt file is text for the model's tokenizer; anything else a
  // safetensors file of input tensors.
  std::unique_ptr<SafeTensorsFile> file;
  std::optional<Tensor> textIds;
  if (path.ends_with(".txt")) {
    auto ids = textInputIds(path, func);
    if (!ids)
      return ids.takeError();
    textIds = std::move(*ids);
  } else {
    auto opened = SafeTensorsFile::open(path);
    if (!opened)
      return opened.takeError();
    file = std::move(*opened);
  }
  std::vector<std::string> names = inputNames(func);
  std::map<std::string, Tensor> whole;
  int64_t batches = -1;
  std::string firstName;
  for (auto [n, name] : llvm::enumerate(names)) {
    auto type = dyn_cast<RankedTensorType>(func.getArgument(n).getType());
    if (!type || !type.hasStaticShape() || type.getRank() == 0)
      return makeError("calibration needs inputs of static shape with a batch "
                       "dimension; '" + name + "' has none");
    const SafeTensorInfo *info = nullptr;
    if (file) {
      info = file->find("input." + name);
      if (!info)
        info = file->find(name);
    }
    Tensor tensor;
    std::string tensorName;
    if (textIds && name == "input_ids") {
      tensor = *textIds;
      tensorName = "input_ids";
    } else if (info) {
      auto read = file->read(info->name);
      if (!read)
        return read.takeError();
      tensor = std::move(*read);
      tensorName = info->name;
    } else if (name == "attention_mask") {
      // Filled once the batch count is known.
      continue;
    } else {
      return makeError(path + ": no tensor 'input." + name + "' or '" + name +
                       "' for the model input '" + name + "'");
    }
    bool fits = tensor.rank() == type.getRank() && tensor.shape[0] > 0 &&
                tensor.shape[0] % type.getDimSize(0) == 0;
    for (int64_t d = 1; fits && d < tensor.rank(); ++d)
      fits = tensor.shape[d] == type.getDimSize(d);
    if (!fits || tensor.isFloat() != isa<FloatType>(type.getElementType()))
      return makeError(path + ": '" + tensorName + "' is " + tensor.shapeString() +
                       " (" + dtypeName(tensor.dtype) + "); the model input '" +
                       name + "' takes " + shapeOf(type) +
                       " with dimension 0 a multiple of " +
                       llvm::Twine(type.getDimSize(0)));
    int64_t count = tensor.shape[0] / type.getDimSize(0);
    if (batches >= 0 && count != batches)
      return makeError(path + ": '" + tensorName + "' holds " + llvm::Twine(count) +
                       " batches, '" + firstName + "' " + llvm::Twine(batches));
    batches = count;
    firstName = tensorName;
    tensor.dtype = dtypeOf(type.getElementType());
    whole[name] = std::move(tensor);
  }
  if (batches < 0)
    return makeError(path + ": the model takes no input that the file holds");
  if (maxBatches > 0)
    batches = std::min(batches, maxBatches);
  CalibrationSet set;
  set.path = path.str();
  for (int64_t b = 0; b < batches; ++b) {
    TensorMap batch;
    for (auto [n, name] : llvm::enumerate(names)) {
      auto type = cast<RankedTensorType>(func.getArgument(n).getType());
      int64_t rows = type.getDimSize(0);
      auto it = whole.find(name);
      if (it == whole.end()) {
        std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
        batch[name] = Tensor::ints(shape, 1, dtypeOf(type.getElementType()));
        continue;
      }
      batch[name] = rowsOf(it->second, b * rows, rows);
    }
    set.batches.push_back(std::move(batch));
  }
  return set;
}

llvm::Expected<std::vector<TensorMap>>
mlir::tfx::runCalibration(ModuleOp module, const CalibrationSet &set,
                          const OpObserver &observer, llvm::StringRef label) {
  bool showProgress = !label.empty() && llvm::errs().is_displayed();
  std::vector<TensorMap> outputs;
  for (auto [n, batch] : llvm::enumerate(set.batches)) {
    if (showProgress)
      llvm::errs() << "\r" << label << ": batch " << n + 1 << "/"
                   << set.batches.size() << "   ";
    auto result = runFunction(module, batch, "", observer);
    if (!result) {
      if (showProgress)
        llvm::errs() << "\n";
      return makeError(set.path + ", batch " + llvm::Twine(n) + ": " +
                       llvm::toString(result.takeError()));
    }
    outputs.push_back(std::move(*result));
  }
  if (showProgress)
    llvm::errs() << "\r" << label << ": " << set.batches.size()
                 << " batches done   \n";
  return outputs;
}
