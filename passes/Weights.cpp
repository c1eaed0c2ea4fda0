//===- Weights.cpp - read and create weights in compression passes --------===//

#include "Weights.h"

#include "Structure.h"

#include "tfx/Support/ResourceWeights.h"
#include "tfx/Support/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

bool mlir::tfx::isWeightValue(Value v) {
  if (v.getDefiningOp<WeightOp>())
    return true;
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  return constant && isa<ElementsAttr>(constant.getValue());
}

llvm::Expected<Tensor> mlir::tfx::readWeight(Value v) {
  if (auto weight = v.getDefiningOp<WeightOp>()) {
    auto module = weight->getParentOfType<ModuleOp>();
    auto path = module ? module->getAttrOfType<StringAttr>(kWeightsAttr) : nullptr;
    if (!path)
      return makeError("weight '" + weight.getName() + "': the module has no '" +
                       kWeightsAttr + "' attribute");
    auto tensor = loadWeight(path.getValue(), weight.getName(), weight.getTransposed());
    if (!tensor)
      return tensor.takeError();
    auto type = cast<RankedTensorType>(weight.getType());
    if (tensor->shape != std::vector<int64_t>(type.getShape().begin(),
                                              type.getShape().end()))
      return makeError("weight '" + weight.getName() + "' is " +
                       tensor->shapeString() + " in the file");
    return tensor;
  }
  if (auto constant = v.getDefiningOp<arith::ConstantOp>())
    if (auto elements = dyn_cast<ElementsAttr>(constant.getValue()))
      return tensorFromElements(elements);
  return makeError("not a weight or constant");
}

std::string mlir::tfx::weightName(Value v) {
  if (auto weight = v.getDefiningOp<WeightOp>())
    return weight.getName().str();
  if (auto constant = v.getDefiningOp<arith::ConstantOp>())
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      return resource.getRawHandle().getKey().str();
  return "";
}

FailureOr<Value> mlir::tfx::createWeight(OpBuilder &b, Location loc,
                                         RankedTensorType type, const Tensor &t,
                                         llvm::StringRef name) {
  auto attr = createResourceWeight(type, t, name);
  if (!attr) {
    emitError(loc) << llvm::toString(attr.takeError());
    return failure();
  }
  return arith::ConstantOp::create(b, loc, type, *attr).getResult();
}

FailureOr<Value> mlir::tfx::createF32Weight(OpBuilder &b, Location loc,
                                            const Tensor &t, llvm::StringRef name) {
  return createWeight(b, loc, RankedTensorType::get(t.shape, b.getF32Type()), t,
                      name);
}

std::string mlir::tfx::sourceWeightName(llvm::StringRef name) {
  for (bool again = true; again;) {
    again = false;
    for (llvm::StringRef suffix : {".q8", ".q4", ".smooth", ".pruned", ".values",
                                   ".lowrank_a", ".lowrank_b"}) {
      // A blob whose name was taken gets "_<n>" appended by MLIR.
      llvm::StringRef base = name;
      size_t underscore = base.rfind('_');
      if (underscore != llvm::StringRef::npos && underscore + 1 < base.size() &&
          llvm::all_of(base.drop_front(underscore + 1), llvm::isDigit) &&
          base.take_front(underscore).ends_with(suffix))
        base = base.take_front(underscore);
      if (base.consume_back(suffix)) {
        name = base;
        again = true;
      }
    }
  }
  return name.str();
}

FailureOr<LinearSelection> LinearSelection::get(ModuleOp module, llvm::StringRef pass,
                                                llvm::ArrayRef<std::string> targets,
                                                llvm::ArrayRef<std::string> layers) {
  LinearSelection s;
  s.pass = pass.str();
  auto roles = targetRoles(module, pass, targets);
  if (failed(roles))
    return failure();
  s.roles = std::move(*roles);
  for (const std::string &name : layers)
    s.layers[name] = false;
  return s;
}

bool LinearSelection::selects(llvm::StringRef role, llvm::StringRef weight) {
  if (layers.empty())
    return llvm::is_contained(roles, role);
  auto it = layers.find(sourceWeightName(weight));
  if (it == layers.end())
    return false;
  it->second = true;
  return true;
}

LogicalResult LinearSelection::checkAllFound(Operation *where) const {
  for (const auto &entry : layers)
    if (!entry.second)
      return where->emitError(pass) << ": layers names '" << entry.getKey()
                                    << "', which no linear's weight was made from";
  return success();
}

FailureOr<std::vector<LinearTarget>>
mlir::tfx::collectLinearTargets(func::FuncOp func, LinearSelection &selection,
                                bool f32Only) {
  llvm::DenseMap<Operation *, std::string> roleOf = linearRoles(func);
  std::vector<LinearTarget> found;
  WalkResult walk = func.walk([&](LinearOp linear) -> WalkResult {
    std::string role = roleOf.lookup(linear);
    if (role.empty())
      role = "other";
    Value weight = linear.getWeight();
    auto type = cast<RankedTensorType>(weight.getType());
    if (!isWeightValue(weight) ||
        (f32Only && (!type.getElementType().isF32() || type.getRank() != 2)))
      return WalkResult::advance();
    std::string name = weightName(weight);
    if (!selection.selects(role, name))
      return WalkResult::advance();
    auto w = readWeight(weight);
    if (!w) {
      linear.emitError(selection.passName()) << ": " << llvm::toString(w.takeError());
      return WalkResult::interrupt();
    }
    found.push_back({linear, role, name.empty() ? "linear" : name, std::move(*w)});
    return WalkResult::advance();
  });
  if (walk.wasInterrupted() || failed(selection.checkAllFound(func)))
    return failure();
  return found;
}
