//===- ONNXValues.cpp - values, folding and node attributes ---------------===//

#include "ONNXImporter.h"

#include "tfx/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::onnximport;

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

InFlightDiagnostic Importer::error() { return emitError(nodeLoc); }

static bool isSplat(const Tensor &t) {
  if (t.isFloat())
    return llvm::all_equal(t.f);
  return llvm::all_equal(t.i);
}

/// The little-endian bytes of `t` as elements of `type` (f32, i64 or i1 as
/// one byte), the layout the interpreter reads from a dense_resource.
static std::vector<char> blobBytes(const Tensor &t, RankedTensorType type) {
  Type elt = type.getElementType();
  std::vector<char> bytes;
  if (elt.isF32()) {
    bytes.resize(t.f.size() * sizeof(float));
    std::memcpy(bytes.data(), t.f.data(), bytes.size());
  } else if (elt.isInteger(1)) {
    for (int64_t v : t.i)
      bytes.push_back(v != 0);
  } else {
    bytes.resize(t.i.size() * sizeof(int64_t));
    std::memcpy(bytes.data(), t.i.data(), bytes.size());
  }
  return bytes;
}

Attribute Importer::constantAttr(llvm::StringRef name, const Tensor &t,
                                 RankedTensorType type) {
  if (t.numElements() <= kMaxInlineElements || isSplat(t) ||
      !llvm::sys::IsLittleEndianHost)
    return attrFromTensor(t, type);
  // Large folded tables (masks, position tables) print as resources, so the
  // IR stays readable.
  std::string key = "onnx_";
  for (char c : name)
    key += llvm::isAlnum(c) ? c : '_';
  std::vector<char> bytes = blobBytes(t, type);
  size_t align = type.getElementType().isInteger(1) ? 1 : 8;
  return DenseResourceElementsAttr::get(
      type, key, HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, align));
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
    Attribute attr = constantAttr(name, *v.constant, v.type);
    if (!attr) {
      error() << "constant '" << name << "' does not fit its type " << v.type;
      return failure();
    }
    v.value = arith::ConstantOp::create(b, l, cast<TypedAttr>(attr)).getResult();
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

/// The value of `op` when every operand is known: evaluated with the
/// interpreter, so that folding and run time agree by construction. Null
/// when some operand is only known at run time.
static FailureOr<std::optional<Tensor>>
evaluateKnown(Operation *op, const llvm::DenseMap<Value, const Tensor *> &known,
              Importer &im) {
  // Results too large to hold on the host at import time (an Expand or
  // Tile of a constant to a huge shape) stay ops, computed at run time.
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  int64_t count = type && type.hasStaticShape() ? checkedElementCount(type.getShape()) : -1;
  if (count < 0 || count > kMaxFoldResultElements)
    return std::optional<Tensor>();
  std::vector<const Tensor *> operands;
  for (Value operand : op->getOperands()) {
    auto it = known.find(operand);
    if (it == known.end())
      return std::optional<Tensor>();
    operands.push_back(it->second);
  }
  llvm::Expected<Tensor> folded = evaluateOpOn(op, operands);
  if (!folded) {
    im.error() << "cannot fold at import time: "
               << llvm::toString(folded.takeError());
    return failure();
  }
  return std::optional<Tensor>(std::move(*folded));
}

LogicalResult Importer::finish(Operation *op, llvm::StringRef name) {
  auto folded = evaluateKnown(op, constantOfValue, *this);
  if (failed(folded))
    return failure();
  if (!*folded) {
    setValue(name, op->getResult(0));
    return success();
  }
  op->erase();
  setConstant(name, std::move(**folded));
  return success();
}

void Importer::define(llvm::StringRef name, Value v) {
  OValue o;
  o.type = cast<RankedTensorType>(v.getType());
  o.value = v;
  auto it = constantOfValue.find(v);
  if (it != constantOfValue.end())
    o.constant = *it->second;
  values[name] = std::move(o);
}

FailureOr<Value> Importer::fold(Operation *op) {
  auto folded = evaluateKnown(op, constantOfValue, *this);
  if (failed(folded))
    return failure();
  if (!*folded)
    return op->getResult(0);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(op);
  Value v = materialize(std::move(**folded), "folded");
  op->erase();
  return v;
}

Value Importer::materialize(Tensor t, llvm::StringRef name) {
  ownedConstants.push_back(std::move(t));
  const Tensor &owned = ownedConstants.back();
  RankedTensorType type = typeOfTensor(owned);
  Value v = arith::ConstantOp::create(b, nodeLoc,
                                      cast<TypedAttr>(constantAttr(name, owned, type)))
                .getResult();
  constantOfValue[v] = &owned;
  return v;
}

Value Importer::scalarLike(Value of, double value) {
  Type elt = getElementTypeOrSelf(of.getType());
  if (isa<FloatType>(elt))
    return materialize(Tensor::floats({}, (float)value), "scalar");
  return materialize(Tensor::ints({}, (int64_t)value,
                                  elt.isInteger(1) ? DType::Bool : DType::I64),
                     "scalar");
}

llvm::StringRef Importer::modelDir() const {
  return llvm::sys::path::parent_path(path);
}

//===----------------------------------------------------------------------===//
// Node attributes and inputs
//===----------------------------------------------------------------------===//

/// The kind of an attribute, inferred from its contents when the producer
/// left `type` unset (old exporters do).
static onnx::AttributeProto::AttributeType kindOf(const onnx::AttributeProto &a) {
  if (a.type() != onnx::AttributeProto::UNDEFINED)
    return a.type();
  if (a.has_f())
    return onnx::AttributeProto::FLOAT;
  if (a.has_i())
    return onnx::AttributeProto::INT;
  if (a.has_s())
    return onnx::AttributeProto::STRING;
  if (a.has_t())
    return onnx::AttributeProto::TENSOR;
  if (a.floats_size())
    return onnx::AttributeProto::FLOATS;
  if (a.ints_size())
    return onnx::AttributeProto::INTS;
  return onnx::AttributeProto::UNDEFINED;
}

static const char *kindName(onnx::AttributeProto::AttributeType kind) {
  switch (kind) {
  case onnx::AttributeProto::FLOAT: return "a float";
  case onnx::AttributeProto::INT: return "an int";
  case onnx::AttributeProto::STRING: return "a string";
  case onnx::AttributeProto::TENSOR: return "a tensor";
  case onnx::AttributeProto::FLOATS: return "a list of floats";
  case onnx::AttributeProto::INTS: return "a list of ints";
  case onnx::AttributeProto::GRAPH: return "a graph";
  default: return "of another kind";
  }
}

LogicalResult Importer::checkAttributeKinds() {
  using A = onnx::AttributeProto;
  for (const A &a : current->attribute()) {
    // The kinds of the attributes that the converters read.
    A::AttributeType want =
        llvm::StringSwitch<A::AttributeType>(a.name())
            .Cases({"axis", "keepdims", "transA", "transB", "to", "start", "end",
                    "allowzero", "noop_with_empty_axes", "batch_dims", "upper"},
                   A::INT)
            .Cases({"num_outputs", "value_int", "stash_type"}, A::INT)
            .Cases({"alpha", "beta", "epsilon", "value_float"}, A::FLOAT)
            .Cases({"perm", "axes", "split", "value_ints", "starts", "ends"}, A::INTS)
            .Case("value_floats", A::FLOATS)
            .Case("approximate", A::STRING)
            .Case("value", A::TENSOR)
            .Default(A::UNDEFINED);
    if (want == A::UNDEFINED)
      continue;
    A::AttributeType have = kindOf(a);
    if (have != want) {
      error() << "attribute '" << a.name() << "' must be " << kindName(want)
              << ", not " << kindName(have);
      return failure();
    }
  }
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
  return a ? a->i() : def;
}

float Importer::floatAttr(llvm::StringRef name, float def) const {
  const onnx::AttributeProto *a = attr(name);
  return a ? a->f() : def;
}

std::optional<std::vector<int64_t>>
Importer::intsAttr(llvm::StringRef name) const {
  const onnx::AttributeProto *a = attr(name);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

FailureOr<int64_t> Importer::axis(int64_t axis, int64_t rank,
                                  llvm::StringRef what, bool inclusive) {
  int64_t last = inclusive ? rank : rank - 1;
  if (axis < -rank || axis > last) {
    error() << what << ": axis " << axis << " is out of range for rank "
            << rank;
    return failure();
  }
  return axis < 0 ? axis + rank : axis;
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
  if (t->rank() > 1) {
    error() << what << " (input " << i << ", '" << name
            << "') must be a scalar or 1-D, got shape " << t->shapeString();
    return failure();
  }
  return t->i;
}
