//===- ONNXImporter.cpp - ONNX model -> tfx module ------------------------===//
//
// The graph walk: initializers, inputs, one node at a time, outputs; then the
// clean-up (and, on request, raising) pipeline. Values and node attributes
// are in ONNXValues.cpp, the per-operator converters in ONNXOps.cpp and
// ONNXShapeOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"

#include "tfx/Frontend/Frontend.h"
#include "tfx/Frontend/ONNXTensor.h"
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

#include <climits>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

static bool isDefaultDomain(llvm::StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

LogicalResult Importer::convertNode(const onnx::NodeProto &node) {
  current = &node;
  // Unnamed nodes (legal in ONNX) go by their first output.
  std::string label = node.name();
  if (label.empty() && node.output_size())
    label = node.output(0);
  // The node name and op type for readers of the IR and of diagnostics; the
  // file for tools that want one.
  nodeLoc = NameLoc::get(
      b.getStringAttr(label),
      NameLoc::get(b.getStringAttr(node.op_type()),
                   FileLineColLoc::get(&ctx, path, 0, 0)));
  if (!isDefaultDomain(node.domain())) {
    emitError(nodeLoc) << "node '" << label << "' (" << node.op_type()
                       << ") is in operator domain '" << node.domain()
                       << "'; only the default ONNX domain is supported";
    return failure();
  }
  if (!hasConverter(node.op_type())) {
    emitError(nodeLoc) << "unsupported ONNX op '" << node.op_type()
                       << "' (node '" << label << "')";
    return failure();
  }
  // Every supported operator has a first output; converters name it.
  if (node.output_size() == 0 || node.output(0).empty()) {
    emitError(nodeLoc) << node.op_type() << " node '" << label
                       << "' has no output";
    return failure();
  }

  // Every error raised while the node converts (ours, shape inference's,
  // folding's) names the node: collected here, re-emitted with a prefix.
  SmallVector<Diagnostic> held;
  LogicalResult result = success();
  {
    ScopedDiagnosticHandler capture(&ctx, [&](Diagnostic &diag) {
      held.push_back(std::move(diag));
      return success();
    });
    for (const std::string &in : node.input())
      if (!in.empty() && !has(in)) {
        error() << "input '" << in << "' is not defined before its use";
        result = failure();
        break;
      }
    if (succeeded(result))
      result = checkAttributeKinds();
    if (succeeded(result))
      result = convertOp(*this);
    // Shapes computed from the file's numbers stay within the limit every
    // later stage relies on (element counts fit in int64 with room).
    for (const std::string &out : node.output()) {
      if (failed(result) || out.empty() || !has(out))
        continue;
      ArrayRef<int64_t> shape = typeOf(out).getShape();
      if (checkedElementCount(shape) < 0) {
        error() << "output '" << out << "' would have shape "
                << shapeText(shape) << ", more than 2^40 elements";
        result = failure();
      }
    }
  }
  std::string prefix = node.op_type() + " node '" + label + "': ";
  for (Diagnostic &diag : held) {
    InFlightDiagnostic out =
        ctx.getDiagEngine().emit(diag.getLocation(), diag.getSeverity());
    out << prefix << diag.str();
    for (Diagnostic &note : diag.getNotes())
      out.attachNote(note.getLocation()) << note.str();
  }
  // A converter that failed without saying why still stops the import.
  if (failed(result) && held.empty())
    emitError(nodeLoc) << prefix << "conversion failed";
  return result;
}

std::string mlir::tfx::onnximport::shapeText(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The function argument type of graph input `info`: static dims as given,
/// symbolic ones from --input-shape, --dim, then the defaults.
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
                   << "' has an unsupported element type "
                   << onnxTypeName(type.tensor_type().elem_type());
    return failure();
  }
  auto given = options.inputShapes.find(info.name());
  bool hasGiven = given != options.inputShapes.end();
  if (!type.tensor_type().has_shape()) {
    if (!hasGiven) {
      emitError(loc) << "graph input '" << info.name()
                     << "' has no shape in the model; give one with "
                        "--input-shape";
      return failure();
    }
    return RankedTensorType::get(given->second, im.elementTypeOf(*dtype));
  }
  const auto &dims = type.tensor_type().shape().dim();
  std::vector<int64_t> shape;
  std::string modelShape = "[";
  for (int i = 0; i < dims.size(); ++i) {
    const onnx::TensorShapeProto::Dimension &d = dims[i];
    modelShape += (i ? "," : "") + (d.has_dim_value() ? std::to_string(d.dim_value())
                                    : d.has_dim_param() ? d.dim_param()
                                                        : std::string("?"));
    if (d.has_dim_value())
      shape.push_back(d.dim_value());
    else if (hasGiven && (size_t)i < given->second.size())
      shape.push_back(given->second[i]);
    else if (d.has_dim_param() && options.dims.count(d.dim_param()))
      shape.push_back(options.dims.lookup(d.dim_param()));
    else
      shape.push_back(i == 0 ? options.defaultBatch : options.defaultSeq);
  }
  modelShape += "]";
  if (hasGiven && given->second != shape) {
    emitError(loc) << "input '" << info.name() << "': the model's shape "
                   << modelShape << " does not accept the given shape "
                   << shapeText(given->second);
    return failure();
  }
  if (checkedElementCount(shape) < 0) {
    emitError(loc) << "input '" << info.name() << "': shape "
                   << shapeText(shape) << " has more than 2^40 elements";
    return failure();
  }
  for (auto [i, d] : llvm::enumerate(shape))
    if (d <= 0) {
      emitError(loc) << "input '" << info.name() << "' dimension " << i
                     << " of " << modelShape
                     << " has no positive size; give one with --dim or "
                        "--input-shape";
      return failure();
    }
  return RankedTensorType::get(shape, im.elementTypeOf(*dtype));
}

LogicalResult Importer::importInitializers(const onnx::GraphProto &graph) {
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  std::string dir = llvm::sys::path::parent_path(path).str();
  for (const onnx::TensorProto &init : graph.initializer()) {
    std::optional<DType> dtype = dtypeFromONNX(init.data_type());
    int64_t n = checkedElementCount(init.dims());
    // Large float tensors stay in the file; the weight reader decodes them
    // (and reports bad payloads) when the data is needed. Invalid shapes go
    // to the decoder, which names the problem.
    if (n > kMaxInlineElements && dtype && isFloatDType(*dtype)) {
      auto type = RankedTensorType::get(
          std::vector<int64_t>(init.dims().begin(), init.dims().end()),
          b.getF32Type());
      setWeight(init.name(), init.name(), type);
      continue;
    }
    llvm::Expected<Tensor> t = decodeTensorProto(init, dir, init.name());
    if (!t) {
      // The message names the tensor.
      emitError(fileLoc) << llvm::toString(t.takeError());
      return failure();
    }
    setConstant(init.name(), std::move(*t));
  }
  return success();
}

LogicalResult Importer::importInputs(const onnx::GraphProto &graph,
                                     const ImportOptionsView &options) {
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : graph.initializer())
    initializers.insert(init.name());

  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.contains(info.name()))
      continue;
    FailureOr<RankedTensorType> type = inputType(*this, info, options, fileLoc);
    if (failed(type))
      return failure();
    // 32-bit integer inputs keep their type at the interface; inside, every
    // integer is i64.
    if (dtypeFromONNX(info.type().tensor_type().elem_type()) == DType::I32)
      *type = type->clone(b.getI32Type());
    argTypes.push_back(*type);
    args.push_back(&info);
  }
  b.setInsertionPointToEnd(module->getBody());
  func = func::FuncOp::create(b, fileLoc, "main", b.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  for (auto [i, info] : llvm::enumerate(args)) {
    func.setArgAttr(i, kNameAttr, b.getStringAttr(info->name()));
    Value arg = entry->getArgument(i);
    if (getElementTypeOrSelf(arg.getType()).isInteger(32)) {
      auto type = cast<RankedTensorType>(arg.getType()).clone(b.getI64Type());
      arg = CastOp::create(b, NameLoc::get(b.getStringAttr(info->name())), type, arg);
      lastMaterialized = arg.getDefiningOp();
    }
    setValue(info->name(), arg);
  }
  return success();
}

LogicalResult Importer::importGraph(const onnx::GraphProto &graph,
                                    const ImportOptionsView &options) {
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  module = ModuleOp::create(fileLoc);
  (*module)->setAttr(kWeightsAttr, b.getStringAttr(path));
  if (failed(importInitializers(graph)) || failed(importInputs(graph, options)))
    return failure();

  for (const onnx::NodeProto &node : graph.node())
    if (failed(convertNode(node)))
      return failure();
  current = nullptr;
  nodeLoc = fileLoc;

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
  func.setFunctionType(
      b.getFunctionType(func.getArgumentTypes(), ValueRange(results).getTypes()));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, kNameAttr, b.getStringAttr(out.name()));
  return success();
}

/// The opset of the default domain, after checking every node's domain.
static FailureOr<int64_t> checkOpsets(const onnx::ModelProto &model,
                                      Location fileLoc) {
  int64_t opset = -1;
  for (const onnx::OperatorSetIdProto &set : model.opset_import())
    if (isDefaultDomain(set.domain()))
      opset = set.version();
  if (opset < 11 || opset > 21) {
    if (opset < 0)
      emitError(fileLoc) << "the model imports no opset of the default ONNX "
                            "domain (supported: 11..21)";
    else
      emitError(fileLoc) << "ONNX opset " << opset
                         << " of the default domain is not supported (11..21)";
    return failure();
  }
  return opset;
}

OwningOpRef<ModuleOp> mlir::tfx::importONNX(llvm::StringRef path,
                                            MLIRContext &ctx,
                                            const ImportOptions &options) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(FileLineColLoc::get(&ctx, path, 0, 0))
        << "cannot read " << path << ": " << buffer.getError().message();
    return nullptr;
  }
  return importONNXBytes((*buffer)->getBuffer(), path, ctx, options);
}

OwningOpRef<ModuleOp> mlir::tfx::importONNXBytes(llvm::StringRef bytes,
                                                 llvm::StringRef path,
                                                 MLIRContext &ctx,
                                                 const ImportOptions &options) {
  ctx.loadDialect<TfxDialect, func::FuncDialect, arith::ArithDialect>();
  Location fileLoc = FileLineColLoc::get(&ctx, path, 0, 0);
  onnx::ModelProto model;
  if (bytes.size() > (size_t)INT_MAX ||
      !model.ParseFromArray(bytes.data(), (int)bytes.size()) ||
      !model.has_graph()) {
    emitError(fileLoc) << "not a valid ONNX model: " << path;
    return nullptr;
  }
  FailureOr<int64_t> opset = checkOpsets(model, fileLoc);
  if (failed(opset))
    return nullptr;
  if (options.keepLayers) {
    emitError(fileLoc) << "keeping a subset of layers needs a Hugging Face "
                          "folder; an ONNX graph has no layer structure";
    return nullptr;
  }

  // Weights are found relative to the model, wherever the tool runs later.
  llvm::SmallString<256> absPath(path);
  llvm::sys::fs::make_absolute(absPath);
  llvm::sys::path::remove_dots(absPath, /*remove_dot_dot=*/true);
  Importer importer(ctx, std::string(absPath), *opset);
  ImportOptionsView view{options.dims, options.inputShapes, options.defaultBatch,
                         options.defaultSeq};
  if (failed(importer.importGraph(model.graph(), view)))
    return nullptr;
  OwningOpRef<ModuleOp> module = importer.takeModule();
  if (failed(verify(*module)))
    return nullptr;

  // Canonicalization also runs without raising: it drops the constants that
  // folding left unused and turns weight transposes into `transposed` reads.
  PassManager pm(&ctx);
  pm.addPass(createCanonicalizerPass());
  if (options.raise) {
    pm.addPass(createTfxRaise());
    pm.addPass(createCanonicalizerPass());
  }
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module)) || failed(verify(*module)))
    return nullptr;
  return module;
}
