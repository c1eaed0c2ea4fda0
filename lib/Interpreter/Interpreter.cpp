//===- Interpreter.cpp - run a function of tfx ops ------------------------===//
//
// Walks the function body once, in order. Values live in a map of shared
// tensors and are dropped after their last use, so that peak memory stays
// near the weights of one layer plus its activations; weights referenced by
// several ops (tied embeddings) are loaded once and shared.
//
//===----------------------------------------------------------------------===//

#include "tfx/Interpreter/Interpreter.h"

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/WeightStore.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"

#include <memory>

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string nameOf(DictionaryAttr attrs, const char *fallback, unsigned n) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kNameAttr))
      return name.str();
  return fallback + std::to_string(n);
}

llvm::Expected<func::FuncOp>
mlir::tfx::findEntryFunction(ModuleOp module, llvm::StringRef funcName) {
  if (!funcName.empty()) {
    if (auto func = module.lookupSymbol<func::FuncOp>(funcName))
      return func;
    return makeError("the module has no function '" + funcName + "'");
  }
  if (auto func = module.lookupSymbol<func::FuncOp>("main"))
    return func;
  auto funcs = module.getOps<func::FuncOp>();
  if (funcs.empty())
    return makeError("the module has no function");
  if (std::next(funcs.begin()) != funcs.end())
    return makeError("the module has several functions and none is named "
                     "'main'; name the one to run");
  return *funcs.begin();
}

std::vector<std::string> mlir::tfx::inputNames(func::FuncOp func) {
  std::vector<std::string> names;
  for (unsigned n = 0; n < func.getNumArguments(); ++n)
    names.push_back(nameOf(func.getArgAttrDict(n), "arg", n));
  return names;
}

namespace {
using TensorRef = std::shared_ptr<const Tensor>;

/// Loads each (name, transposed) weight once and keeps it only while some
/// tfx.weight op still to run refers to it.
class WeightCache {
public:
  WeightCache(ModuleOp module, Block &body) {
    if (auto path = module->getAttrOfType<StringAttr>(kWeightsAttr))
      weightsPath = path.str();
    body.walk([&](WeightOp op) { ++pending[key(op)]; });
  }

  llvm::Expected<TensorRef> load(WeightOp op) {
    auto k = key(op);
    TensorRef tensor = cache[k];
    if (!tensor) {
      auto loaded = read(op);
      if (!loaded)
        return loaded.takeError();
      tensor = std::make_shared<const Tensor>(std::move(*loaded));
    }
    if (--pending[k] > 0)
      cache[k] = tensor;
    else
      cache.erase(k);
    return tensor;
  }

private:
  static std::pair<std::string, bool> key(WeightOp op) {
    return {op.getName().str(), op.getTransposed()};
  }

  llvm::Expected<Tensor> read(WeightOp op) {
    if (weightsPath.empty())
      return makeError("the module has no '" + kWeightsAttr +
                       "' attribute naming the weight file");
    auto tensor = loadWeight(weightsPath, op.getName(), op.getTransposed());
    if (!tensor)
      return tensor.takeError();
    auto type = cast<RankedTensorType>(op.getType());
    if (auto err = checkTensorType(*tensor, type, "weight '" + op.getName().str() + "'"))
      return err;
    tensor->dtype = dtypeOf(type.getElementType());
    return tensor;
  }

  std::string weightsPath;
  std::map<std::pair<std::string, bool>, TensorRef> cache;
  std::map<std::pair<std::string, bool>, int> pending;
};
} // namespace

static llvm::Error opError(Operation *op, llvm::Error err) {
  return makeError(formatLocation(op->getLoc()) + ": '" +
                   op->getName().getStringRef() +
                   "': " + llvm::toString(std::move(err)));
}

struct RunCheckpoint::State {
  func::FuncOp func;
  Operation *op = nullptr;
  llvm::DenseMap<Value, TensorRef> values;
  WeightCache weights;
};

/// Runs the ops of `state.func` from `state.op` on (the whole body when
/// null), recording the checkpoints asked for.
static llvm::Expected<std::map<std::string, Tensor>>
runFrom(RunCheckpoint::State state, const OpObserver &observer,
        RunCheckpoints *checkpoints) {
  func::FuncOp func = state.func;
  Block &body = func.getBody().front();
  llvm::DenseMap<Value, TensorRef> &values = state.values;
  // The last op using each value, to free it right after.
  llvm::DenseMap<Value, Operation *> lastUser;
  for (Operation &op : body)
    for (Value operand : op.getOperands())
      lastUser[operand] = &op;

  std::map<std::string, Tensor> outputs;
  std::vector<const Tensor *> operands;
  auto it = state.op ? Block::iterator(state.op) : body.begin();
  for (; it != body.end(); ++it) {
    Operation &op = *it;
    if (checkpoints) {
      auto found = checkpoints->find(&op);
      if (found != checkpoints->end()) {
        auto saved = std::make_shared<RunCheckpoint::State>(state);
        saved->op = &op;
        found->second = RunCheckpoint(std::move(saved));
      }
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [n, v] : llvm::enumerate(ret.getOperands())) {
        auto found = values.find(v);
        if (found == values.end())
          return opError(&op, makeError("returns a value defined outside the body"));
        outputs[nameOf(func.getResultAttrDict(n), "result", n)] = *found->second;
      }
      return outputs;
    }
    if (op.getNumRegions() != 0)
      return opError(&op, makeError("ops with regions are not interpreted"));
    TensorRef result;
    if (auto weight = dyn_cast<WeightOp>(op)) {
      auto loaded = state.weights.load(weight);
      if (!loaded)
        return opError(&op, loaded.takeError());
      result = std::move(*loaded);
    } else {
      operands.clear();
      for (Value v : op.getOperands()) {
        auto found = values.find(v);
        if (found == values.end())
          return opError(&op, makeError("operand defined outside the function body"));
        operands.push_back(found->second.get());
      }
      // evaluateOpOn already names the op and its location.
      auto evaluated = evaluateOpOn(&op, operands);
      if (!evaluated)
        return evaluated.takeError();
      if (observer)
        observer(&op, operands, *evaluated);
      result = std::make_shared<const Tensor>(std::move(*evaluated));
    }
    if (!op.getResult(0).use_empty())
      values[op.getResult(0)] = std::move(result);
    for (Value v : op.getOperands())
      if (lastUser.lookup(v) == &op)
        values.erase(v);
  }
  return makeError("function '" + func.getSymName() + "' has no return");
}

llvm::Expected<std::map<std::string, Tensor>>
mlir::tfx::runFunction(ModuleOp module, const std::map<std::string, Tensor> &inputs,
                       llvm::StringRef funcName, const OpObserver &observer,
                       RunCheckpoints *checkpoints) {
  auto found = findEntryFunction(module, funcName);
  if (!found)
    return found.takeError();
  func::FuncOp func = *found;
  if (func.isExternal() || !func.getBody().hasOneBlock())
    return makeError("function '" + func.getSymName() +
                     "' must have a body of one block");
  Block &body = func.getBody().front();

  // Bind the inputs by name, checking each against its argument type.
  RunCheckpoint::State state{func, nullptr, llvm::DenseMap<Value, TensorRef>(),
                             WeightCache(module, body)};
  std::vector<std::string> argNames = inputNames(func);
  for (unsigned n = 0; n < func.getNumArguments(); ++n) {
    const std::string &name = argNames[n];
    auto type = dyn_cast<RankedTensorType>(func.getArgument(n).getType());
    if (!type)
      return makeError("argument '" + name + "' is not a ranked tensor");
    auto it = inputs.find(name);
    if (it == inputs.end()) {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << type;
      return makeError("missing input '" + name + "' (expected " + s + ")");
    }
    if (auto err = checkTensorType(it->second, type, "input '" + name + "'"))
      return err;
    auto tensor = std::make_shared<Tensor>(it->second);
    tensor->dtype = dtypeOf(type.getElementType());
    state.values[func.getArgument(n)] = std::move(tensor);
  }
  for (const auto &[name, tensor] : inputs)
    if (!llvm::is_contained(argNames, name))
      return makeError("unknown input '" + name + "'; the function takes: " +
                       llvm::join(argNames, ", "));
  return runFrom(std::move(state), observer, checkpoints);
}

llvm::Expected<std::map<std::string, Tensor>>
mlir::tfx::resumeFunction(const RunCheckpoint &checkpoint, const OpObserver &observer) {
  if (!checkpoint.get())
    return makeError("resuming from a checkpoint no run has taken");
  return runFrom(*checkpoint.get(), observer, nullptr);
}
