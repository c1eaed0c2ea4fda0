//===- LowerToLinalg.cpp - tfx ops to linalg, entries to the artifact ABI -===//
//
// Entry functions take the shape of artifact.h's tfx_entry_fn early, while
// still on tensors: the inputs become read-only memrefs (to_tensor
// restrict), the results are materialized into output memrefs, and the
// function returns an i32 status. Bufferization then writes results in
// place into the caller's buffers, and the wrapper that follows after the
// conversion to LLVM only unpacks pointers.
//
//===----------------------------------------------------------------------===//

#include "Elementwise.h"
#include "Lowering.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXLOWERTOLINALG
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

/// Constants up to this many elements stay in the code (they fold, or
/// become small read-only globals); larger ones go to the weight blob.
static constexpr int64_t kMaxInlineConstant = 256;

std::optional<WeightRef> FuncLowering::weightSource(Value value) {
  Operation *def = value.getDefiningOp();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!def || !type || !type.hasStaticShape())
    return std::nullopt;
  if (auto weight = dyn_cast<WeightOp>(def))
    return WeightRef{weight.getNameAttr(), weight.getTransposed(), type};
  if (auto constant = dyn_cast<arith::ConstantOp>(def)) {
    auto elements = dyn_cast<ElementsAttr>(constant.getValue());
    if (!elements)
      return std::nullopt;
    // Resource blobs are weights whatever their size (passes put the
    // weights they compute there); small dense constants stay in the code.
    if (!isa<DenseResourceElementsAttr>(elements) &&
        type.getNumElements() <= kMaxInlineConstant)
      return std::nullopt;
    if (auto dense = dyn_cast<DenseElementsAttr>(elements); dense && dense.isSplat())
      return std::nullopt;
    return WeightRef{elements, false, type};
  }
  return std::nullopt;
}

Value FuncLowering::weightTensor(Location loc, const WeightRef &ref,
                                 WeightLayout layout, int64_t panel) {
  unsigned slot = plan.getOrAdd(ref.source, ref.transposed, ref.type, layout,
                                panel ? panel : options.panel);
  if (Value view = views.lookup(slot))
    return view;
  const WeightSlot &s = plan.slots()[slot];
  // Views sit at the top of the function so that every use is dominated.
  OpBuilder b = OpBuilder::atBlockBegin(&func.front());
  auto memrefType = MemRefType::get(s.storedShape(), s.storedElementType());
  Value offset = arith::ConstantIndexOp::create(b, loc, s.offset);
  Value view = memref::ViewOp::create(b, loc, memrefType, weights(), offset,
                                      ValueRange{});
  Value tensor = bufferization::ToTensorOp::create(
      b, loc, memref::getTensorTypeFromMemRefType(memrefType), view,
      /*restrict=*/true);
  views[slot] = tensor;
  return tensor;
}

void FuncLowering::addErrorFlag(OpBuilder &b, Location loc, Value flag) {
  auto ret = cast<func::ReturnOp>(func.front().getTerminator());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ret);
  Value code = arith::ExtUIOp::create(b, loc, b.getI32Type(), flag);
  Value status = arith::OrIOp::create(b, loc, ret.getOperand(0), code);
  ret->setOperand(0, status);
}

FailureOr<Value> mlir::tfx::lowerTfxOp(FuncLowering &fl, OpBuilder &b,
                                       Operation *op) {
  if (auto weight = dyn_cast<WeightOp>(op)) {
    std::optional<WeightRef> ref = fl.weightSource(weight.getResult());
    if (!ref)
      return op->emitError("weights need a static shape");
    return fl.weightTensor(op->getLoc(), *ref, WeightLayout::Plain);
  }
  if (auto paged = dyn_cast<PagedAttentionOp>(op))
    return lowerPagedAttention(fl, b, paged);
  if (fl.options.kernels) {
    FailureOr<Value> kernel = failure();
    auto linear = dyn_cast<LinearOp>(op);
    if (linear && isa_and_nonnull<SparseCsrOp, Sparse24Op>(
                      linear.getWeight().getDefiningOp()))
      kernel = lowerSparseLinearKernel(fl, b, linear);
    else if (isa<LinearOp, MatMulOp>(op))
      kernel = lowerLinearKernel(fl, b, op);
    else if (auto attention = dyn_cast<AttentionOp>(op))
      kernel = lowerAttentionKernel(fl, b, attention);
    else if (isa<LayerNormOp, RmsNormOp, SoftmaxOp>(op))
      kernel = lowerNormKernel(fl, b, op);
    if (succeeded(kernel))
      return kernel;
  }
  if (isElementwiseOp(op))
    return lowerElementwiseOp(fl, b, op);
  if (auto attention = dyn_cast<AttentionOp>(op))
    return lowerAttention(fl, b, attention);
  if (isa<EmbeddingOp, LinearOp, MatMulOp, LayerNormOp, RmsNormOp, RopeOp,
          SoftmaxOp>(op))
    return lowerNNOp(fl, b, op);
  return lowerShapeOp(fl, b, op);
}

//===----------------------------------------------------------------------===//
// The entry ABI
//===----------------------------------------------------------------------===//

static bool isSupportedElementType(Type t) {
  return t.isF32() || t.isF16() || t.isBF16() || t.isInteger(64) ||
         t.isInteger(32) || t.isInteger(8) || t.isInteger(1);
}

static LogicalResult checkEntryType(func::FuncOp f, Type type, StringRef what,
                                    unsigned index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (tensor && tensor.hasStaticShape() && tensor.getRank() <= 8 &&
      isSupportedElementType(tensor.getElementType()))
    return success();
  return f.emitError() << "entry '" << f.getSymName() << "': " << what << " #"
                       << index << " has type " << type
                       << "; compiled entries need statically shaped tensors "
                          "of rank <= 8 of f32, f16, bf16, i64, i32, i8 or i1 "
                          "(fix dynamic dimensions with --input-shape/--dim)";
}

static StringAttr tensorName(func::FuncOp f, DictionaryAttr attrs,
                             StringRef prefix, unsigned index) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kNameAttr))
      return name;
  return StringAttr::get(f.getContext(), prefix + Twine(index));
}

/// Rewrites `f` to (env, weights, scratch, inputs..., outputs...) -> i32.
static LogicalResult convertEntryAbi(func::FuncOp f) {
  MLIRContext *ctx = f.getContext();
  FunctionType type = f.getFunctionType();
  for (auto [i, t] : llvm::enumerate(type.getInputs()))
    if (failed(checkEntryType(f, t, "input", i)))
      return failure();
  for (auto [i, t] : llvm::enumerate(type.getResults()))
    if (failed(checkEntryType(f, t, "output", i)))
      return failure();
  if (!f.getBody().hasOneBlock())
    return f.emitError("entry '") << f.getSymName() << "' must have one block";

  Builder builder(ctx);
  Type bytes = MemRefType::get({ShapedType::kDynamic}, builder.getI8Type());
  SmallVector<Type> argTypes = {LLVM::LLVMPointerType::get(ctx), bytes, bytes};
  SmallVector<Attribute> argAttrs(kNumAbiArgs, builder.getDictionaryAttr({}));
  SmallVector<Attribute> inputs, outputs;
  auto describe = [&](StringAttr name, Type t) {
    return builder.getDictionaryAttr(
        {builder.getNamedAttr("name", name),
         builder.getNamedAttr("type", TypeAttr::get(t))});
  };
  for (auto [i, t] : llvm::enumerate(type.getInputs())) {
    StringAttr name = tensorName(f, f.getArgAttrDict(i), "input", i);
    auto tensor = cast<RankedTensorType>(t);
    argTypes.push_back(MemRefType::get(tensor.getShape(), tensor.getElementType()));
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(kNameAttr, name)));
    inputs.push_back(describe(name, t));
  }
  for (auto [i, t] : llvm::enumerate(type.getResults())) {
    StringAttr name = tensorName(f, f.getResultAttrDict(i), "output", i);
    auto tensor = cast<RankedTensorType>(t);
    argTypes.push_back(MemRefType::get(tensor.getShape(), tensor.getElementType()));
    argAttrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(kNameAttr, name)));
    outputs.push_back(describe(name, t));
  }

  Block &block = f.front();
  unsigned oldCount = block.getNumArguments();
  Location loc = f.getLoc();
  SmallVector<Value> newArgs;
  for (Type t : argTypes)
    newArgs.push_back(block.addArgument(t, loc));
  OpBuilder b = OpBuilder::atBlockBegin(&block);
  for (unsigned i = 0; i < oldCount; ++i) {
    Value in = newArgs[kNumAbiArgs + i];
    Value tensor = bufferization::ToTensorOp::create(
        b, loc, type.getInput(i), in, /*restrict=*/true);
    block.getArgument(i).replaceAllUsesWith(tensor);
  }
  block.eraseArguments(0, oldCount);

  auto ret = cast<func::ReturnOp>(block.getTerminator());
  b.setInsertionPoint(ret);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value out = block.getArgument(kNumAbiArgs + oldCount + i);
    bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, v, out, /*restrict=*/true,
        /*writable=*/true);
  }
  Value ok = arith::ConstantIntOp::create(b, ret.getLoc(), 0, 32);
  func::ReturnOp::create(b, ret.getLoc(), ok);
  ret.erase();

  f.setFunctionType(FunctionType::get(ctx, argTypes, {builder.getI32Type()}));
  f.setAllArgAttrs(argAttrs);
  f.setAllResultAttrs(ArrayRef<DictionaryAttr>{builder.getDictionaryAttr({})});
  f->setAttr(kEntryAttr,
             builder.getDictionaryAttr(
                 {builder.getNamedAttr("name", f.getSymNameAttr()),
                  builder.getNamedAttr("inputs", builder.getArrayAttr(inputs)),
                  builder.getNamedAttr("outputs", builder.getArrayAttr(outputs))}));
  return success();
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
struct LowerToLinalgPass
    : mlir::tfx::impl::TfxLowerToLinalgBase<LowerToLinalgPass> {
  using TfxLowerToLinalgBase::TfxLowerToLinalgBase;

  LogicalResult lowerFunction(func::FuncOp f, WeightPlan &plan,
                              const LoweringOptions &options) {
    if (failed(convertEntryAbi(f)))
      return failure();
    FuncLowering fl(f, plan, options);
    SmallVector<Operation *> ops;
    SmallVector<WeightOp> weightOps;
    SmallVector<Operation *> sparseOps, dequantizeOps;
    for (Operation &op : f.front()) {
      // Weights go last: their users pick the layout they want first.
      // Dequantizes and sparse weights go after their users too, which
      // read the integers or the nonzeros directly where they can (the
      // GEMM kernels).
      if (auto weight = dyn_cast<WeightOp>(op))
        weightOps.push_back(weight);
      else if (isa<SparseCsrOp, Sparse24Op>(op))
        sparseOps.push_back(&op);
      else if (isa<DequantizeOp, QuantizeActivationsOp>(op))
        dequantizeOps.push_back(&op);
      else if (isa<TfxDialect>(op.getDialect()))
        ops.push_back(&op);
    }
    OpBuilder b(f.getContext());
    for (Operation *op : ops) {
      if (fl.erased.contains(op))
        continue;
      b.setInsertionPoint(op);
      if (op->getNumResults() != 1)
        return op->emitError("expected one result");
      FailureOr<Value> lowered = lowerTfxOp(fl, b, op);
      if (failed(lowered))
        return failure();
      if (lowered->getType() != op->getResult(0).getType())
        return op->emitError("internal error: CPU lowering produced ")
               << lowered->getType() << " for " << op->getResult(0).getType();
      op->getResult(0).replaceAllUsesWith(*lowered);
      op->erase();
    }
    // Sparse weights first: their values may be dequantized.
    for (Operation *deferred : llvm::concat<Operation *>(sparseOps, dequantizeOps)) {
      if (!deferred->use_empty()) {
        b.setInsertionPoint(deferred);
        FailureOr<Value> lowered = isa<DequantizeOp, QuantizeActivationsOp>(deferred)
                                       ? lowerNNOp(fl, b, deferred)
                                       : lowerSparseWeight(fl, b, deferred);
        if (failed(lowered))
          return failure();
        deferred->getResult(0).replaceAllUsesWith(*lowered);
      }
      deferred->erase();
    }
    for (WeightOp weight : weightOps) {
      if (!weight->use_empty()) {
        b.setInsertionPoint(weight);
        FailureOr<Value> view = lowerTfxOp(fl, b, weight);
        if (failed(view))
          return failure();
        weight.getResult().replaceAllUsesWith(*view);
      }
      weight.erase();
    }
    // Constants that are weights in all but name move to the blob too.
    SmallVector<arith::ConstantOp> constants;
    f.walk([&](arith::ConstantOp c) { constants.push_back(c); });
    for (arith::ConstantOp c : constants) {
      // Kernels read their weights from packed views; a constant nothing
      // uses any more must not take blob space of its own.
      if (c->use_empty()) {
        c.erase();
        continue;
      }
      if (std::optional<WeightRef> ref = fl.weightSource(c.getResult())) {
        c.getResult().replaceAllUsesWith(
            fl.weightTensor(c.getLoc(), *ref, WeightLayout::Plain));
        c.erase();
      }
    }
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (panel <= 0 || panel % 16) {
      module.emitError("tfx-lower-to-linalg: panel must be a positive multiple of 16");
      return signalPassFailure();
    }
    LoweringOptions options;
    options.kernels = kernels;
    options.panel = panel;
    options.vectorWidth = vectorWidth;
    options.vnni = vnni;
    options.gpu = gpu;
    FailureOr<WeightPlan> plan = WeightPlan::load(module);
    if (failed(plan))
      return signalPassFailure();
    bool hasWeights = false;
    module.walk([&](WeightOp) { hasWeights = true; });
    if (hasWeights && !module->getAttrOfType<StringAttr>(kWeightsAttr)) {
      module.emitError("module uses tfx.weight but has no '")
          << kWeightsAttr << "' attribute naming the weight file";
      return signalPassFailure();
    }
    for (auto f : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (f.isExternal() || f->hasAttr(kEntryAttr))
        continue;
      if (f.isPrivate()) {
        bool usesTfx = false;
        f.walk([&](Operation *op) {
          usesTfx |= isa<TfxDialect>(op->getDialect());
        });
        if (usesTfx) {
          f.emitError("tfx ops are only compiled in public (entry) functions");
          return signalPassFailure();
        }
        continue;
      }
      if (failed(lowerFunction(f, *plan, options)))
        return signalPassFailure();
    }
    plan->save(module);
  }
};
} // namespace
