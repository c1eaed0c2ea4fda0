//===- ONNXImporter.h - state of one ONNX import ----------------*- C++ -*-===//
//
// The importer walks the graph in order. Every ONNX value is either known at
// import time (a constant: shape arithmetic, small initializers, folded
// results), a weight reference (a large float initializer, materialized as a
// `tfx.weight`), or a runtime value of the function being built. Converters
// create tfx ops; `finish` folds an op whose operands are all constants by
// evaluating it with the reference interpreter, so ONNX semantics are
// written once.
//
//===----------------------------------------------------------------------===//
#ifndef TFX_LIB_FRONTEND_ONNX_ONNXIMPORTER_H
#define TFX_LIB_FRONTEND_ONNX_ONNXIMPORTER_H

#include "tfx/Dialect/Tfx.h"
#include "tfx/Support/Tensor.h"

#include "onnx/onnx.pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <optional>

namespace mlir::tfx::onnximport {

struct OValue {
  RankedTensorType type;
  Value value;                    ///< materialized IR value, when any
  std::optional<Tensor> constant; ///< known at import time
  std::string weightName;         ///< a tfx.weight reference
};

class Importer {
public:
  Importer(MLIRContext &ctx, std::string path, int64_t opset)
      : ctx(ctx), b(&ctx), path(std::move(path)), opset(opset) {}

  //===--- values ---------------------------------------------------------===//
  bool has(llvm::StringRef name) const { return values.count(name); }
  RankedTensorType typeOf(llvm::StringRef name) { return values[name].type; }
  /// The value of `name` in the IR (materializing constants and weights).
  FailureOr<Value> get(llvm::StringRef name);
  /// The constant value of `name`, or null when it is only known at run time.
  const Tensor *constant(llvm::StringRef name);
  void setValue(llvm::StringRef name, Value v);
  void setConstant(llvm::StringRef name, Tensor t);
  void setWeight(llvm::StringRef name, std::string weightName,
                 RankedTensorType type);
  void alias(llvm::StringRef name, llvm::StringRef of) {
    values[name] = values[of];
  }

  //===--- building -------------------------------------------------------===//
  OpBuilder &builder() { return b; }
  Location loc() const { return nodeLoc; }
  const onnx::NodeProto &node() const { return *current; }
  int64_t opsetVersion() const { return opset; }
  /// An error at the current node: "<op_type> node '<name>': ...".
  InFlightDiagnostic error();
  /// Records `op`'s result as output `name`, folding it to a constant when
  /// every operand is one.
  LogicalResult finish(Operation *op, llvm::StringRef name);
  Type elementTypeOf(DType d);
  RankedTensorType typeOfTensor(const Tensor &t);

  //===--- node attributes and inputs --------------------------------------===//
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t def) const;
  float floatAttr(llvm::StringRef name, float def) const;
  std::optional<std::vector<int64_t>> intsAttr(llvm::StringRef name) const;
  /// Input `i` of the current node, or "" when absent/empty.
  llvm::StringRef input(int i) const;
  /// Input `i` as a constant integer list (shapes, axes); emits an error and
  /// fails when it is not known at import time.
  FailureOr<std::vector<int64_t>> constInts(int i, llvm::StringRef what);

  //===--- driving --------------------------------------------------------===//
  LogicalResult importGraph(const onnx::GraphProto &graph,
                            const struct ImportOptionsView &options);
  OwningOpRef<ModuleOp> takeModule() { return std::move(module); }

private:
  LogicalResult convertNode(const onnx::NodeProto &node);

  MLIRContext &ctx;
  OpBuilder b;
  OwningOpRef<ModuleOp> module;
  func::FuncOp func;
  std::string path;
  int64_t opset;
  llvm::StringMap<OValue> values;
  llvm::DenseMap<Value, const Tensor *> constantOfValue;
  const onnx::NodeProto *current = nullptr;
  Operation *lastMaterialized = nullptr;
  Location nodeLoc = UnknownLoc::get(&ctx);
};

/// Options the graph import needs (a view of ImportOptions).
struct ImportOptionsView {
  const llvm::StringMap<int64_t> &dims;
  const llvm::StringMap<std::vector<int64_t>> &inputShapes;
  int64_t defaultBatch, defaultSeq;
};

/// Converts the current node; defined in ONNXOps.cpp.
LogicalResult convertOp(Importer &im);

} // namespace mlir::tfx::onnximport

#endif // TFX_LIB_FRONTEND_ONNX_ONNXIMPORTER_H
