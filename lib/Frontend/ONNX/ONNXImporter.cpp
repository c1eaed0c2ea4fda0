//===- ONNXImporter.cpp - ONNX model -> tfx module ------------------------===//

#include "ONNXImporter.h"

#include "tfx/Frontend/Frontend.h"
#include "tfx/Frontend/ONNXTensor.h"
#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

/// Float initializers larger than this stay in the file as tfx.weight.
static constexpr int64_t kMaxInlineElements = 64;

Type Importer::elementTypeOf(DType d) {
  // tfx computes every float type in f32 and every integer type in i64.
  if (isFloatDType(d))
    return b.getF32Type();
  if (d == DType::Bool)
    return b.getI1Type();
  return b.getI64Type();
}

RankedTensorType Importer::typeOfTensor(const Tensor &t) {
  return RankedTensorType::get(t.shape, elementTypeOf(t.dtype));
}

InFlightDiagnostic Importer::error() {
  if (!current)
    return emitError(FileLineColLoc::get(&ctx, path, 0, 0));
  return emitError(nodeLoc) << current->op_type() << " node '"
                            << current->name() << "': ";
}

FailureOr<Value> Importer::get(llvm::StringRef name) {
  auto it = values.find(name);
  if (it == values.end()) {
    error() << "input '" << name << "' is not defined before its use";
    return failure();
  }
  OValue &v = it->second;
  if (v.value)
    return v.value;
  // Materialize at the top of the function, where every use can see it, in
  // first-use order.
  OpBuilder::InsertionGuard guard(b);
  if (lastMaterialized)
    b.setInsertionPointAfter(lastMaterialized);
  else
    b.setInsertionPointToStart(&func.getBody().front());
  Location l = NameLoc::get(b.getStringAttr(name));
  if (!v.weightName.empty()) {
    v.value = WeightOp::create(b, l, v.type, v.weightName, false).getResult();
  } else if (v.constant) {
    v.value = arith::ConstantOp::create(b, l, attrFromTensor(*v.constant, v.type))
                  .getResult();
    constantOfValue[v.value] = &*v.constant;
  } else {
    error() << "value '" << name << "' has no definition";
    return failure();
  }
  lastMaterialized = v.value.getDefiningOp();
  return v.value;
}

const Tensor *Importer::constant(llvm::StringRef name) {
  auto it = values.find(name);
  if (it == values.end() || !it->second.constant)
    return nullptr;
  return &*it->second.constant;
}

void Importer::setValue(llvm::StringRef name, Value v) {
  OValue o;
  o.type = cast<RankedTensorType>(v.getType());
  o.value = v;
  values[name] = std::move(o);
}

void Importer::setConstant(llvm::StringRef name, Tensor t) {
  OValue o;
  o.type = typeOfTensor(t);
  o.constant = std::move(t);
  values[name] = std::move(o);
}

void Importer::setWeight(llvm::StringRef name, std::string weightName,
                         RankedTensorType type) {
  OValue o;
  o.type = type;
  o.weightName = std::move(weightName);
  values[name] = std::move(o);
}

LogicalResult Importer::finish(Operation *op, llvm::StringRef name) {
  std::vector<const Tensor *> operands;
  for (Value operand : op->getOperands()) {
    auto it = constantOfValue.find(operand);
    if (it == constantOfValue.end()) {
      setValue(name, op->getResult(0));
      return success();
    }
    operands.push_back(it->second);
  }
  llvm::Expected<Tensor> folded = evaluateOpOn(op, operands);
  if (!folded) {
    error() << "cannot fold at import time: "
            << llvm::toString(folded.takeError());
    return failure();
  }
  op->erase();
  setConstant(name, std::move(*folded));
  return success();
}

const onnx::AttributeProto *Importer::attr(llvm::StringRef name) const {
  for (const onnx::AttributeProto &a : current->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Importer::intAttr(llvm::StringRef name, int64_t def) const {
  const onnx::AttributeProto *a = attr(name);
  return a && a->has_i() ? a->i() : def;
}

float Importer::floatAttr(llvm::StringRef name, float def) const {
  const onnx::AttributeProto *a = attr(name);
  return a && a->has_f() ? a->f() : def;
}

std::optional<std::vector<int64_t>>
Importer::intsAttr(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

llvm::StringRef Importer::input(int i) const {
  if (i >= current->input_size())
    return "";
  return current->input(i);
}

FailureOr<std::vector<int64_t>> Importer::constInts(int i, llvm::StringRef what) {
  llvm::StringRef name = input(i);
  const Tensor *t = name.empty() ? nullptr : constant(name);
  if (!t || t->isFloat()) {
    error() << what << " (input " << i << ", '" << name
            << "') must be an integer tensor known at import time";
    return failure();
  }
  return t->i;
}

LogicalResult Importer::convertNode(const onnx::NodeProto &node) {
  current = &node;
  std::string label = node.name().empty() ? node.op_type() : node.name();
  // The node name for readers of the IR, the file for diagnostics.
  nodeLoc = NameLoc::get(b.getStringAttr(label),
                         FileLineColLoc::get(&ctx, path, 0, 0));
  if (!node.domain().empty() && node.domain() != "ai.onnx") {
    error() << "operator domain '" << node.domain()
            << "' is not supported (only the default ONNX domain)";
    return failure();
  }
  for (const std::string &in : node.input())
    if (!in.empty() && !has(in)) {
      error() << "input '" << in << "' is not defined before its use";
      return failure();
    }
  return convertOp(*this);
}

static FailureOr<RankedTensorType>
inputType(Importer &im, const onnx::ValueInfoProto &info,
          const ImportOptionsView &options, Location loc) {
  const onnx::TypeProto &type = info.type();
  if (!type.has_tensor_type()) {
    emitError(loc) << "graph input '" << info.name() << "' is not a tensor";
    return failure();
  }
  std::optional<DType> dtype = dtypeFromONNX(type.tensor_type().elem_type());
  if (!dtype) {
    emitError(loc) << "graph input '" << info.name()
                   << "' has an unsupported element type";
    return failure();
  }
  std::vector<int64_t> shape;
  auto given = options.inputShapes.find(info.name());
  const auto &dims = type.tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    const onnx::TensorShapeProto::Dimension &d = dims[i];
    if (d.has_dim_value()) {
      shape.push_back(d.dim_value());
    } else if (given != options.inputShapes.end() &&
               (size_t)i < given->second.size()) {
      shape.push_back(given->second[i]);
    } else if (d.has_dim_param() && options.dims.count(d.dim_param())) {
      shape.push_back(options.dims.lookup(d.dim_param()));
    } else {
      shape.push_back(i == 0 ? options.defaultBatch : options.defaultSeq);
    }
  }
  if (given != options.inputShapes.end()) {
    bool agrees = given->second.size() == shape.size();
    for (size_t i = 0; agrees && i < shape.size(); ++i)
      agrees = given->second[i] == shape[i];
    if (!agrees) {
      auto diag = emitError(loc) << "input '" << info.name() << "': the model's shape [";
      for (int i = 0; i < dims.size(); ++i)
        diag << (i ? "," : "")
             << (dims[i].has_dim_value() ? std::to_string(dims[i].dim_value())
                                         : dims[i].dim_param());
      diag << "] does not accept the given shape [";
      for (size_t i = 0; i < given->second.size(); ++i)
        diag << (i ? "," : "") << given->second[i];
      diag << "]";
      return failure();
    }
  }
  for (int64_t d : shape)
    if (d <= 0) {
      emitError(loc) << "input '" << info.name() << "' has a non-positive dimension";
      return failure();
    }
  return RankedTensorType::get(shape, im.elementTypeOf(*dtype));
}

LogicalResult Importer::importGraph(const onnx::GraphProto &graph,
                                    const ImportOptionsView &options) {
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  module = ModuleOp::create(fileLoc);
  (*module)->setAttr(kWeightsAttr, b.getStringAttr(path));
  std::string dir = llvm::sys::path::parent_path(path).str();

  // Initializers: large floats stay in the file, the rest become constants.
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : graph.initializer()) {
    initializers.insert(init.name());
    std::optional<DType> dtype = dtypeFromONNX(init.data_type());
    int64_t n = 1;
    for (int64_t d : init.dims())
      n *= d;
    if (dtype && isFloatDType(*dtype) && n > kMaxInlineElements) {
      auto type = RankedTensorType::get(
          std::vector<int64_t>(init.dims().begin(), init.dims().end()),
          b.getF32Type());
      setWeight(init.name(), init.name(), type);
      continue;
    }
    llvm::Expected<Tensor> t = decodeTensorProto(init, dir, init.name());
    if (!t) {
      emitError(fileLoc) << "initializer '" << init.name()
                         << "': " << llvm::toString(t.takeError());
      return failure();
    }
    setConstant(init.name(), std::move(*t));
  }

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.contains(info.name()))
      continue;
    FailureOr<RankedTensorType> type = inputType(*this, info, options, fileLoc);
    if (failed(type))
      return failure();
    argTypes.push_back(*type);
    argNames.push_back(info.name());
  }
  b.setInsertionPointToEnd(module->getBody());
  func = func::FuncOp::create(b, fileLoc, "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    func.setArgAttr(i, kNameAttr, b.getStringAttr(name));
    setValue(name, entry->getArgument(i));
  }
  b.setInsertionPointToEnd(entry);

  for (const onnx::NodeProto &node : graph.node())
    if (failed(convertNode(node)))
      return failure();
  current = nullptr;

  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    if (!has(out.name())) {
      emitError(fileLoc) << "graph output '" << out.name() << "' is never produced";
      return failure();
    }
    FailureOr<Value> v = get(out.name());
    if (failed(v))
      return failure();
    results.push_back(*v);
  }
  func::ReturnOp::create(b, fileLoc, results);
  func.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, kNameAttr, b.getStringAttr(out.name()));
  return success();
}

OwningOpRef<ModuleOp> mlir::tfx::importONNX(llvm::StringRef path,
                                            MLIRContext &ctx,
                                            const ImportOptions &options) {
  ctx.loadDialect<TfxDialect, func::FuncDialect, arith::ArithDialect>();
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(fileLoc) << "cannot read " << path << ": "
                       << buffer.getError().message();
    return nullptr;
  }
  onnx::ModelProto model;
  if ((*buffer)->getBufferSize() > (size_t)INT_MAX ||
      !model.ParseFromArray((*buffer)->getBufferStart(),
                            (int)(*buffer)->getBufferSize()) ||
      !model.has_graph()) {
    emitError(fileLoc) << "not a valid ONNX model: " << path;
    return nullptr;
  }
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &set : model.opset_import())
    if (set.domain().empty() || set.domain() == "ai.onnx")
      opset = set.version();
  if (opset < 11 || opset > 21) {
    emitError(fileLoc) << "ONNX opset " << opset
                       << " of the default domain is not supported (11..21)";
    return nullptr;
  }

  llvm::SmallString<256> absPath(path);
  llvm::sys::fs::make_absolute(absPath);
  Importer importer(ctx, std::string(absPath), opset);
  ImportOptionsView view{options.dims, options.inputShapes, options.defaultBatch,
                         options.defaultSeq};
  if (failed(importer.importGraph(model.graph(), view)))
    return nullptr;
  OwningOpRef<ModuleOp> module = importer.takeModule();
  if (failed(verify(*module)))
    return nullptr;

  PassManager pm(&ctx);
  pm.addPass(createCanonicalizerPass());
  if (options.raise) {
    pm.addPass(createTfxRaise());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module)))
    return nullptr;
  return module;
}
