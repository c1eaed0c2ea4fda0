//===- LowerDispatch.cpp - parallel_for calls and C-ABI entry wrappers ----===//
//
// Runs on the LLVM dialect, where a capture of any type has become plain
// values: a dispatch call packs them into a stack closure and calls
// env->parallel_for(pool, count, trampoline, closure); the trampoline
// unpacks the closure and calls the body. Each entry gets the wrapper of
// artifact.h's tfx_entry_fn, which builds the memref descriptors of the
// entry's arguments from the pointer arrays.
//
//===----------------------------------------------------------------------===//

#include "Lowering.h"
#include "WeightPlan.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::tfx {
#define GEN_PASS_DEF_TFXCPULOWERDISPATCH
#include "codegen/Passes.h.inc"
} // namespace mlir::tfx

using namespace mlir;
using namespace mlir::tfx;

static constexpr llvm::StringLiteral kDispatchBodyAttr = "tfx.dispatch_body";

Value mlir::tfx::loadEnvField(OpBuilder &b, Location loc, Value env, EnvField field) {
  MLIRContext *ctx = b.getContext();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  SmallVector<Type> fields((size_t)EnvField::Count, ptr);
  auto envType = LLVM::LLVMStructType::getLiteral(ctx, fields);
  Value slot = LLVM::GEPOp::create(b, loc, ptr, envType, env,
                                   ArrayRef<LLVM::GEPArg>{0, (int32_t)field});
  return LLVM::LoadOp::create(b, loc, ptr, slot);
}

static LogicalResult lowerDispatch(ModuleOp module, LLVM::LLVMFuncOp decl,
                                   ArrayRef<LLVM::CallOp> calls) {
  MLIRContext *ctx = module.getContext();
  auto bodyRef = decl->getAttrOfType<FlatSymbolRefAttr>(kDispatchBodyAttr);
  auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(bodyRef);
  if (!body)
    return decl.emitError("dispatch body ") << bodyRef << " not found";
  Location loc = decl.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = IntegerType::get(ctx, 64);
  // (env, count, captures...) -> the closure holds the captures.
  ArrayRef<Type> params = decl.getFunctionType().getParams();
  if (params.size() < 2 || params[1] != i64)
    return decl.emitError("unexpected dispatch signature");
  SmallVector<Type> fieldTypes(params.drop_front(2));
  auto closureType = LLVM::LLVMStructType::getLiteral(ctx, fieldTypes);

  // void trampoline(ptr closure, i64 i) { body(i, closure->fields...); }
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  auto tramp = LLVM::LLVMFuncOp::create(
      mb, loc, (body.getName() + "_trampoline").str(),
      LLVM::LLVMFunctionType::get(voidType, {ptr, i64}), LLVM::Linkage::Internal);
  Block *entry = tramp.addEntryBlock(mb);
  OpBuilder tb = OpBuilder::atBlockBegin(entry);
  SmallVector<Value> args = {entry->getArgument(1)};
  for (auto [k, t] : llvm::enumerate(fieldTypes)) {
    Value field = LLVM::GEPOp::create(tb, loc, ptr, closureType, entry->getArgument(0),
                                      ArrayRef<LLVM::GEPArg>{0, (int32_t)k});
    args.push_back(LLVM::LoadOp::create(tb, loc, t, field));
  }
  LLVM::CallOp::create(tb, loc, body, args);
  LLVM::ReturnOp::create(tb, loc, ValueRange{});

  for (LLVM::CallOp call : calls) {
    auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
    OpBuilder entryBuilder = OpBuilder::atBlockBegin(&caller.getBody().front());
    Value one = LLVM::ConstantOp::create(entryBuilder, loc, i64, 1);
    Value closure = LLVM::AllocaOp::create(entryBuilder, loc, ptr, closureType, one);
    OpBuilder b(call);
    ValueRange operands = call.getArgOperands();
    for (auto [k, v] : llvm::enumerate(operands.drop_front(2))) {
      Value field = LLVM::GEPOp::create(b, loc, ptr, closureType, closure,
                                        ArrayRef<LLVM::GEPArg>{0, (int32_t)k});
      LLVM::StoreOp::create(b, loc, v, field);
    }
    Value env = operands[0];
    Value parallelFor = loadEnvField(b, loc, env, EnvField::ParallelFor);
    Value pool = loadEnvField(b, loc, env, EnvField::Pool);
    Value trampAddress = LLVM::AddressOfOp::create(b, loc, ptr, tramp.getName());
    auto fnType = LLVM::LLVMFunctionType::get(voidType, {ptr, i64, ptr, ptr});
    SmallVector<Value> callArgs = {parallelFor, pool, operands[1], trampAddress, closure};
    LLVM::CallOp::create(b, loc, fnType, callArgs);
    call.erase();
  }
  body.setLinkage(LLVM::Linkage::Internal);
  decl.erase();
  return success();
}

/// Appends a memref descriptor's fields for a dense row-major buffer.
static void pushDescriptor(OpBuilder &b, Location loc, Value pointer,
                           ArrayRef<int64_t> shape, SmallVectorImpl<Value> &args) {
  auto i64 = b.getI64Type();
  auto constant = [&](int64_t v) {
    return (Value)LLVM::ConstantOp::create(b, loc, i64, v);
  };
  args.push_back(pointer);
  args.push_back(pointer);
  args.push_back(constant(0));
  for (int64_t d : shape)
    args.push_back(constant(d));
  int64_t stride = 1;
  SmallVector<Value> strides(shape.size());
  for (int64_t d = (int64_t)shape.size() - 1; d >= 0; --d) {
    strides[d] = constant(stride);
    stride *= shape[d];
  }
  args.append(strides);
}

static LogicalResult buildEntryWrapper(ModuleOp module, LLVM::LLVMFuncOp impl,
                                       int64_t weightBytes) {
  MLIRContext *ctx = module.getContext();
  Location loc = impl.getLoc();
  auto entry = impl->getAttrOfType<DictionaryAttr>(kEntryAttr);
  auto inputs = entry.getAs<ArrayAttr>("inputs");
  auto outputs = entry.getAs<ArrayAttr>("outputs");
  auto name = entry.getAs<StringAttr>("name");
  auto scratchBytes = impl->getAttrOfType<IntegerAttr>(kScratchBytesAttr);
  if (!inputs || !outputs || !name)
    return impl.emitError("malformed ") << kEntryAttr << " attribute";
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i32 = IntegerType::get(ctx, 32);
  OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
  auto wrapper = LLVM::LLVMFuncOp::create(
      mb, loc, ("tfx_entry_" + name.getValue()).str(),
      LLVM::LLVMFunctionType::get(i32, {ptr, ptr, ptr, ptr}));
  Block *block = wrapper.addEntryBlock(mb);
  OpBuilder b = OpBuilder::atBlockBegin(block);
  Value env = block->getArgument(0);
  SmallVector<Value> args = {env};
  pushDescriptor(b, loc, block->getArgument(1), {weightBytes}, args);
  Value scratch = loadEnvField(b, loc, env, EnvField::Scratch);
  pushDescriptor(b, loc, scratch, {scratchBytes ? scratchBytes.getInt() : 0}, args);
  auto tensorArgs = [&](ArrayAttr tensors, Value array) {
    for (auto [k, attr] : llvm::enumerate(tensors)) {
      auto type = cast<RankedTensorType>(
          cast<DictionaryAttr>(attr).getAs<TypeAttr>("type").getValue());
      Value slot = LLVM::GEPOp::create(b, loc, ptr, ptr, array,
                                       ArrayRef<LLVM::GEPArg>{(int32_t)k});
      Value pointer = LLVM::LoadOp::create(b, loc, ptr, slot);
      pushDescriptor(b, loc, pointer, type.getShape(), args);
    }
  };
  tensorArgs(inputs, block->getArgument(2));
  tensorArgs(outputs, block->getArgument(3));
  if (args.size() != impl.getNumArguments())
    return impl.emitError("entry signature does not match its ")
           << kEntryAttr << " attribute (" << args.size() << " vs "
           << impl.getNumArguments() << " arguments)";
  auto call = LLVM::CallOp::create(b, loc, impl, args);
  LLVM::ReturnOp::create(b, loc, call.getResult());
  wrapper->setAttr(kEntryAttr, entry);
  if (scratchBytes)
    wrapper->setAttr(kScratchBytesAttr, scratchBytes);
  impl->removeAttr(kEntryAttr);
  impl.setLinkage(LLVM::Linkage::Internal);
  return success();
}

namespace {
struct LowerDispatchPass
    : mlir::tfx::impl::TfxCpuLowerDispatchBase<LowerDispatchPass> {
  using TfxCpuLowerDispatchBase::TfxCpuLowerDispatchBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // One walk for all calls: a module has a dispatch per parallel loop.
    llvm::StringMap<SmallVector<LLVM::CallOp>> callsByCallee;
    module.walk([&](LLVM::CallOp call) {
      if (std::optional<StringRef> callee = call.getCallee())
        callsByCallee[*callee].push_back(call);
    });
    for (auto decl : llvm::to_vector(module.getOps<LLVM::LLVMFuncOp>()))
      if (decl->hasAttr(kDispatchBodyAttr) &&
          failed(lowerDispatch(module, decl, callsByCallee.lookup(decl.getName()))))
        return signalPassFailure();
    FailureOr<WeightPlan> plan = WeightPlan::load(module);
    if (failed(plan))
      return signalPassFailure();
    for (auto impl : llvm::to_vector(module.getOps<LLVM::LLVMFuncOp>()))
      if (impl->hasAttr(kEntryAttr) && !impl.getName().starts_with("tfx_entry_") &&
          failed(buildEntryWrapper(module, impl, plan->size())))
        return signalPassFailure();
  }
};
} // namespace
