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

#include <deque>
#include <optional>

namespace mlir::tfx::onnximport {

/// Float initializers and Constant tensors larger than this stay in the
/// model file as `tfx.weight`; larger folded constants become resources.
inline constexpr int64_t kMaxInlineElements = 64;

/// Import-time folding evaluates ops whose operands are all known, unless
/// the result has more elements than this (64 MB of f32).
inline constexpr int64_t kMaxFoldResultElements = int64_t(1) << 24;

struct OValue {
  RankedTensorType type;
  Value value;                    ///< materialized IR value, when any
  std::optional<Tensor> constant; ///< known at import time
  std::string weightName;         ///< a tfx.weight reference
};

/// Options the graph import needs (a view of ImportOptions).
struct ImportOptionsView {
  const llvm::StringMap<int64_t> &dims;
  const llvm::StringMap<std::vector<int64_t>> &inputShapes;
  int64_t defaultBatch, defaultSeq;
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
  /// An error at the current node; while a node converts, every error is
  /// prefixed with "<op_type> node '<name>': ".
  InFlightDiagnostic error();
  /// Records `op`'s result as output `name`, folding it to a constant when
  /// every operand is one.
  LogicalResult finish(Operation *op, llvm::StringRef name);
  /// For the intermediate ops of a decomposition: `op`'s result, replaced by
  /// a constant when every operand is one.
  FailureOr<Value> fold(Operation *op);
  /// Records `v` (a runtime value, or a constant made by fold) as `name`.
  void define(llvm::StringRef name, Value v);
  /// finish() for output 0 of the current node.
  LogicalResult finish(Operation *op) { return finish(op, current->output(0)); }
  /// `t` as an arith.constant at the current insertion point, known to the
  /// folding like any materialized constant.
  Value materialize(Tensor t, llvm::StringRef name);
  /// A rank-0 constant of `of`'s element type.
  Value scalarLike(Value of, double value);
  /// The model's folder (external data of Constant tensors).
  llvm::StringRef modelDir() const;
  Type elementTypeOf(DType d);
  RankedTensorType typeOfTensor(const Tensor &t);

  //===--- node attributes and inputs --------------------------------------===//
  // Attribute kinds are checked for the whole node before it converts, so the
  // accessors below may trust them.
  const onnx::AttributeProto *attr(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t def) const;
  float floatAttr(llvm::StringRef name, float def) const;
  std::optional<std::vector<int64_t>> intsAttr(llvm::StringRef name) const;
  /// `axis` normalized against `rank` (an error when outside
  /// [-rank, rank), or [-rank-1, rank] with `inclusive`).
  FailureOr<int64_t> axis(int64_t axis, int64_t rank, llvm::StringRef what,
                          bool inclusive = false);
  FailureOr<int64_t> axisAttr(llvm::StringRef name, int64_t def, int64_t rank,
                              bool inclusive = false) {
    return axis(intAttr(name, def), rank, "attribute '" + name.str() + "'",
                inclusive);
  }
  /// Input `i` of the current node, or "" when absent/empty.
  llvm::StringRef input(int i) const;
  /// Input `i` as a constant integer list (shapes, axes); emits an error and
  /// fails when it is not known at import time.
  FailureOr<std::vector<int64_t>> constInts(int i, llvm::StringRef what);

  //===--- driving --------------------------------------------------------===//
  LogicalResult importGraph(const onnx::GraphProto &graph,
                            const ImportOptionsView &options);
  OwningOpRef<ModuleOp> takeModule() { return std::move(module); }

private:
  LogicalResult convertNode(const onnx::NodeProto &node);
  LogicalResult checkAttributeKinds();
  LogicalResult importInitializers(const onnx::GraphProto &graph);
  LogicalResult importInputs(const onnx::GraphProto &graph,
                             const ImportOptionsView &options);
  Attribute constantAttr(llvm::StringRef name, const Tensor &t,
                         RankedTensorType type);

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
  std::deque<Tensor> ownedConstants; ///< made by materialize(); stable addresses
  Location nodeLoc = UnknownLoc::get(&ctx);
};

/// "[2,-1,8]": a shape for messages.
std::string shapeText(ArrayRef<int64_t> shape);

/// Converts the current node (ONNXOps.cpp); false when no converter exists.
bool hasConverter(llvm::StringRef opType);
LogicalResult convertOp(Importer &im);

/// Converters of the shape and data movement operators (ONNXShapeOps.cpp).
LogicalResult convertReshape(Importer &im);
LogicalResult convertFlatten(Importer &im);
LogicalResult convertSqueeze(Importer &im);
LogicalResult convertUnsqueeze(Importer &im);
LogicalResult convertTranspose(Importer &im);
LogicalResult convertExpand(Importer &im);
LogicalResult convertConcat(Importer &im);
LogicalResult convertGather(Importer &im);
LogicalResult convertGatherElements(Importer &im);
LogicalResult convertGatherND(Importer &im);
LogicalResult convertSlice(Importer &im);
LogicalResult convertSplit(Importer &im);
LogicalResult convertShape(Importer &im);
LogicalResult convertSize(Importer &im);
LogicalResult convertConstantOfShape(Importer &im);
LogicalResult convertRange(Importer &im);
LogicalResult convertConstant(Importer &im);

/// The axes a Reduce* node reduces, sorted: from the `axes` attribute
/// before opset `inputFrom`, else from the optional input. `noop` is set
/// when the node is the identity (no axes and noop_with_empty_axes).
FailureOr<std::vector<int64_t>> reduceAxes(Importer &im, int64_t inputFrom,
                                           int64_t rank, bool &noop);

/// A tfx.reshape of `x` to `shape` (same element count), not yet finished.
FailureOr<Value> buildReshape(Importer &im, Value x, ArrayRef<int64_t> shape);

} // namespace mlir::tfx::onnximport

#endif // TFX_LIB_FRONTEND_ONNX_ONNXIMPORTER_H
