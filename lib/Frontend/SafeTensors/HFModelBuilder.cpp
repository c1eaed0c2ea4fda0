//===- HFModelBuilder.cpp - shared pieces of the Hugging Face importers ---===//

#include "HFModelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::hf;

ModelBuilder::ModelBuilder(MLIRContext &ctx, std::string configPath,
                           llvm::json::Object config, std::string weightsPath,
                           llvm::StringMap<std::vector<int64_t>> tensorShapes)
    : ctx(ctx), b(&ctx), configPath(std::move(configPath)),
      configJson(std::move(config)), weightsPath(std::move(weightsPath)),
      shapes(std::move(tensorShapes)) {
  module = ModuleOp::create(FileLineColLoc::get(&ctx, this->configPath, 0, 0));
  (*module)->setAttr(kWeightsAttr, b.getStringAttr(this->weightsPath));
}

InFlightDiagnostic ModelBuilder::configError() {
  return emitError(FileLineColLoc::get(&ctx, configPath, 0, 0));
}

std::optional<int64_t> ModelBuilder::optionalInt(llvm::StringRef key) {
  if (const llvm::json::Value *v = configJson.get(key))
    return v->getAsInteger();
  return std::nullopt;
}

FailureOr<int64_t> ModelBuilder::intField(llvm::StringRef key) {
  std::optional<int64_t> v = optionalInt(key);
  if (!v || *v <= 0) {
    configError() << "config.json: missing or invalid integer field '" << key
                  << "'";
    return failure();
  }
  return *v;
}

std::optional<double> ModelBuilder::optionalFloat(llvm::StringRef key) {
  if (const llvm::json::Value *v = configJson.get(key))
    return v->getAsNumber();
  return std::nullopt;
}

FailureOr<double> ModelBuilder::floatField(llvm::StringRef key) {
  std::optional<double> v = optionalFloat(key);
  if (!v) {
    configError() << "config.json: missing or invalid number field '" << key
                  << "'";
    return failure();
  }
  return *v;
}

std::optional<llvm::StringRef> ModelBuilder::optionalString(llvm::StringRef key) {
  return configJson.getString(key);
}

std::optional<bool> ModelBuilder::optionalBool(llvm::StringRef key) {
  return configJson.getBoolean(key);
}

std::optional<std::string>
ModelBuilder::detectPrefix(llvm::ArrayRef<llvm::StringRef> prefixes,
                           llvm::StringRef probe) const {
  for (llvm::StringRef p : prefixes)
    if (hasTensor((p + probe).str()))
      return p.str();
  return std::nullopt;
}

Location ModelBuilder::loc(llvm::StringRef scope) {
  // The module path for readers of the IR, the weight file for diagnostics.
  return NameLoc::get(b.getStringAttr(scope),
                      FileLineColLoc::get(&ctx, weightsPath, 0, 0));
}

FailureOr<Value> ModelBuilder::optionalWeight(llvm::StringRef name,
                                              bool transposed) {
  auto it = shapes.find(name);
  if (it == shapes.end())
    return Value();
  std::string key = (name + (transposed ? "^T" : "")).str();
  if (Value cached = weightCache.lookup(key))
    return cached;
  std::vector<int64_t> shape = it->second;
  if (transposed) {
    if (shape.size() != 2) {
      emitError(loc(name)) << "weight '" << name
                           << "' must be 2-D to be read transposed";
      return failure();
    }
    std::swap(shape[0], shape[1]);
  }
  // Weights sit at the top of the function, in first-use order, so that
  // every use sees them.
  OpBuilder::InsertionGuard guard(b);
  if (lastWeight)
    b.setInsertionPointAfter(lastWeight);
  else
    b.setInsertionPointToStart(&mainFunc.getBody().front());
  auto type = RankedTensorType::get(shape, b.getF32Type());
  auto weightOp = WeightOp::create(b, loc(name), type, name, transposed);
  lastWeight = weightOp;
  Value w = weightOp.getResult();
  weightCache[key] = w;
  return w;
}

FailureOr<Value> ModelBuilder::weight(llvm::StringRef name, bool transposed) {
  FailureOr<Value> w = optionalWeight(name, transposed);
  if (failed(w))
    return failure();
  if (!*w) {
    emitError(loc(name)) << "tensor '" << name << "' not found in "
                         << weightsPath;
    return failure();
  }
  return w;
}

FailureOr<Value> ModelBuilder::linear(Value x, llvm::StringRef scope,
                                      bool transposed, bool requireBias) {
  FailureOr<Value> w = weight((scope + ".weight").str(), transposed);
  if (failed(w))
    return failure();
  FailureOr<Value> bias = requireBias ? weight((scope + ".bias").str())
                                      : optionalWeight((scope + ".bias").str());
  if (failed(bias))
    return failure();
  auto op = createInferred<LinearOp>(b, loc(scope), x, *w, *bias);
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::layerNorm(Value x, llvm::StringRef scope,
                                         double eps) {
  FailureOr<Value> gamma = weight((scope + ".weight").str());
  if (failed(gamma))
    return failure();
  FailureOr<Value> beta = optionalWeight((scope + ".bias").str());
  if (failed(beta))
    return failure();
  auto op = createInferred<LayerNormOp>(b, loc(scope), x, *gamma, *beta,
                                        b.getF32FloatAttr(eps));
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::rmsNorm(Value x, llvm::StringRef scope,
                                       double eps) {
  FailureOr<Value> gamma = weight((scope + ".weight").str());
  if (failed(gamma))
    return failure();
  auto op = createInferred<RmsNormOp>(b, loc(scope), x, *gamma,
                                      b.getF32FloatAttr(eps));
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::embedding(Value idValues,
                                         llvm::StringRef tableName) {
  FailureOr<Value> table = weight(tableName);
  if (failed(table))
    return failure();
  // Located at the module (`embeddings.word_embeddings`), not its parameter.
  llvm::StringRef scope = tableName;
  scope.consume_back(".weight");
  auto op = createInferred<EmbeddingOp>(b, loc(scope), idValues, *table);
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::add(Value lhs, Value rhs, llvm::StringRef scope) {
  auto op = createInferred<AddOp>(b, loc(scope), lhs, rhs);
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::mul(Value lhs, Value rhs, llvm::StringRef scope) {
  auto op = createInferred<MulOp>(b, loc(scope), lhs, rhs);
  if (failed(op))
    return failure();
  return op->getResult();
}

FailureOr<Value> ModelBuilder::activation(Value x, llvm::StringRef name,
                                          llvm::StringRef scope) {
  Location l = loc(scope);
  if (name == "gelu")
    return GeluOp::create(b, l, x, GeluApprox::erf).getResult();
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return GeluOp::create(b, l, x, GeluApprox::tanh).getResult();
  if (name == "relu")
    return ReluOp::create(b, l, x).getResult();
  if (name == "silu" || name == "swish")
    return SiluOp::create(b, l, x).getResult();
  configError() << "config.json: unsupported activation '" << name
                << "' (supported: gelu, gelu_new, gelu_pytorch_tanh, "
                   "gelu_fast, relu, silu)";
  return failure();
}

FailureOr<Value> ModelBuilder::sliceLast(Value x, int64_t begin, int64_t size,
                                         llvm::StringRef scope) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> offsets(type.getRank(), 0), sizes(type.getShape()),
      strides(type.getRank(), 1);
  offsets.back() = begin;
  sizes.back() = size;
  auto op = createInferred<SliceOp>(b, loc(scope), x, offsets, sizes, strides);
  if (failed(op))
    return failure();
  return op->getResult();
}

Value ModelBuilder::positions(int64_t seq, llvm::StringRef scope, bool zeros) {
  SmallVector<int64_t> values(seq, 0);
  if (!zeros)
    for (int64_t i = 0; i < seq; ++i)
      values[i] = i;
  auto type = RankedTensorType::get({1, seq}, b.getI64Type());
  return arith::ConstantOp::create(
             b, loc(scope),
             DenseElementsAttr::get(type, ArrayRef<int64_t>(values)))
      .getResult();
}

void ModelBuilder::beginMain(int64_t batch, int64_t seq, bool withMask) {
  auto idType = RankedTensorType::get({batch, seq}, b.getI64Type());
  SmallVector<Type> inputs{idType};
  if (withMask)
    inputs.push_back(idType);
  b.setInsertionPointToEnd(module->getBody());
  mainFunc = func::FuncOp::create(b, loc("main"), "main",
                                  b.getFunctionType(inputs, {}));
  mainFunc.setArgAttr(0, kNameAttr, b.getStringAttr("input_ids"));
  if (withMask)
    mainFunc.setArgAttr(1, kNameAttr, b.getStringAttr("attention_mask"));
  Block *entry = mainFunc.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  ids = entry->getArgument(0);
  mask = withMask ? entry->getArgument(1) : Value();
}

OwningOpRef<ModuleOp> ModelBuilder::finish(Value result,
                                           llvm::StringRef outputName) {
  func::ReturnOp::create(b, loc("main"), result);
  mainFunc.setFunctionType(
      b.getFunctionType(mainFunc.getArgumentTypes(), {result.getType()}));
  mainFunc.setResultAttr(0, kNameAttr, b.getStringAttr(outputName));
  return std::move(module);
}
