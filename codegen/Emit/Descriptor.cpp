//===- Descriptor.cpp - the tfx_artifact descriptor as LLVM globals -------===//
//
// The LLVM struct types below mirror artifact.h field by field; x86-64's
// natural alignment gives both the same layout.
//
//===----------------------------------------------------------------------===//

#include "Descriptor.h"

#include "../CPU/Lowering.h"
#include "tfx/artifact.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalAlias.h"
#include "llvm/IR/GlobalVariable.h"

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// tfx_dtype and the C type of an element type.
static std::optional<std::pair<int32_t, const char *>> dtypeOf(Type t) {
  if (t.isF32())
    return std::make_pair((int32_t)TFX_DTYPE_F32, "float");
  if (t.isF16())
    return std::make_pair((int32_t)TFX_DTYPE_F16, "uint16_t");
  if (t.isBF16())
    return std::make_pair((int32_t)TFX_DTYPE_BF16, "uint16_t");
  if (t.isInteger(64))
    return std::make_pair((int32_t)TFX_DTYPE_I64, "int64_t");
  if (t.isInteger(32))
    return std::make_pair((int32_t)TFX_DTYPE_I32, "int32_t");
  if (t.isInteger(8))
    return std::make_pair((int32_t)TFX_DTYPE_I8, "int8_t");
  if (t.isInteger(1))
    return std::make_pair((int32_t)TFX_DTYPE_BOOL, "uint8_t");
  return std::nullopt;
}

llvm::Expected<std::vector<EntryInfo>> mlir::tfx::collectEntries(ModuleOp module) {
  std::vector<EntryInfo> entries;
  for (auto f : module.getOps<LLVM::LLVMFuncOp>()) {
    auto entry = f->getAttrOfType<DictionaryAttr>(kEntryAttr);
    if (!entry)
      continue;
    EntryInfo info;
    info.wrapper = f.getName().str();
    if (auto name = entry.getAs<StringAttr>("name"))
      info.name = name.str();
    if (auto scratch = f->getAttrOfType<IntegerAttr>(kScratchBytesAttr))
      info.scratchBytes = scratch.getInt();
    for (auto [key, list] : {std::make_pair("inputs", &info.inputs),
                             std::make_pair("outputs", &info.outputs)}) {
      auto tensors = entry.getAs<ArrayAttr>(key);
      if (!tensors)
        return error("entry '" + info.name + "' lacks its " + key);
      for (Attribute attr : tensors) {
        auto dict = cast<DictionaryAttr>(attr);
        auto type = cast<RankedTensorType>(dict.getAs<TypeAttr>("type").getValue());
        auto dtype = dtypeOf(type.getElementType());
        if (!dtype)
          return error("entry '" + info.name + "': unsupported element type");
        EntryTensor t;
        t.name = dict.getAs<StringAttr>("name").str();
        t.dtype = dtype->first;
        t.cType = dtype->second;
        t.shape.assign(type.getShape().begin(), type.getShape().end());
        list->push_back(std::move(t));
      }
    }
    entries.push_back(std::move(info));
  }
  if (entries.empty())
    return error("the module has no entry function to compile");
  return entries;
}

namespace {
struct DescriptorBuilder {
  llvm::Module &module;
  llvm::LLVMContext &ctx;
  llvm::PointerType *ptr;
  llvm::IntegerType *i32, *i64;
  llvm::StructType *tensorType, *entryType, *artifactType;

  explicit DescriptorBuilder(llvm::Module &m)
      : module(m), ctx(m.getContext()), ptr(llvm::PointerType::get(ctx, 0)),
        i32(llvm::Type::getInt32Ty(ctx)), i64(llvm::Type::getInt64Ty(ctx)) {
    auto shape = llvm::ArrayType::get(i64, TFX_ARTIFACT_MAX_RANK);
    tensorType = llvm::StructType::create(ctx, {ptr, i32, i32, shape},
                                          "tfx_artifact_tensor");
    entryType = llvm::StructType::create(ctx, {ptr, i32, i32, ptr, ptr, i64, ptr},
                                         "tfx_artifact_entry");
    artifactType = llvm::StructType::create(
        ctx,
        {llvm::ArrayType::get(llvm::Type::getInt8Ty(ctx), 8), i32, i32, i64, ptr,
         ptr, ptr, i64, ptr, i64, ptr, i32, i32, ptr, ptr, i64, ptr},
        "tfx_artifact");
  }

  llvm::Constant *string(llvm::StringRef s) {
    auto data = llvm::ConstantDataArray::getString(ctx, s, /*AddNull=*/true);
    auto g = new llvm::GlobalVariable(module, data->getType(), true,
                                      llvm::GlobalValue::PrivateLinkage, data, ".str");
    g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    g->setAlignment(llvm::Align(1));
    return g;
  }

  llvm::Constant *tensors(const std::vector<EntryTensor> &list,
                          llvm::StringRef name) {
    if (list.empty())
      return llvm::ConstantPointerNull::get(ptr);
    std::vector<llvm::Constant *> items;
    for (const EntryTensor &t : list) {
      std::vector<llvm::Constant *> dims;
      for (int d = 0; d < TFX_ARTIFACT_MAX_RANK; ++d)
        dims.push_back(llvm::ConstantInt::get(
            i64, d < (int)t.shape.size() ? t.shape[d] : 0));
      items.push_back(llvm::ConstantStruct::get(
          tensorType,
          {string(t.name), llvm::ConstantInt::get(i32, t.dtype),
           llvm::ConstantInt::get(i32, t.shape.size()),
           llvm::ConstantArray::get(
               llvm::ArrayType::get(i64, TFX_ARTIFACT_MAX_RANK), dims)}));
    }
    auto type = llvm::ArrayType::get(tensorType, items.size());
    return new llvm::GlobalVariable(module, type, true,
                                    llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, items), name);
  }
};
} // namespace

llvm::Error mlir::tfx::addDescriptor(llvm::Module &module,
                                     const DescriptorInfo &info) {
  DescriptorBuilder b(module);
  std::vector<llvm::Constant *> entries;
  for (const EntryInfo &e : info.entries) {
    llvm::Function *fn = module.getFunction(e.wrapper);
    if (!fn)
      return error("entry wrapper '" + e.wrapper + "' is missing");
    entries.push_back(llvm::ConstantStruct::get(
        b.entryType,
        {b.string(e.name), llvm::ConstantInt::get(b.i32, e.inputs.size()),
         llvm::ConstantInt::get(b.i32, e.outputs.size()),
         b.tensors(e.inputs, ".inputs"), b.tensors(e.outputs, ".outputs"),
         llvm::ConstantInt::get(b.i64, e.scratchBytes), fn}));
  }
  // Nothing but the descriptor is visible outside the object.
  for (llvm::Function &f : module)
    if (!f.isDeclaration())
      f.setLinkage(llvm::GlobalValue::InternalLinkage);

  auto entryArrayType = llvm::ArrayType::get(b.entryType, entries.size());
  auto entryArray = new llvm::GlobalVariable(
      module, entryArrayType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(entryArrayType, entries), ".entries");

  llvm::Constant *weights = llvm::ConstantPointerNull::get(b.ptr);
  if (!info.embeddedWeights.empty()) {
    auto data = llvm::ConstantDataArray::getRaw(
        llvm::StringRef((const char *)info.embeddedWeights.data(),
                        info.embeddedWeights.size()),
        info.embeddedWeights.size(), llvm::Type::getInt8Ty(b.ctx));
    auto g = new llvm::GlobalVariable(module, data->getType(), true,
                                      llvm::GlobalValue::InternalLinkage, data,
                                      info.symbolPrefix + "_weights");
    g->setAlignment(llvm::Align(64));
    weights = g;
  }
  llvm::Constant *weightsFile = info.weightsFile.empty()
                                    ? (llvm::Constant *)llvm::ConstantPointerNull::get(b.ptr)
                                    : b.string(info.weightsFile);
  llvm::Constant *null = llvm::ConstantPointerNull::get(b.ptr);
  llvm::Constant *gpuArch = null, *gpuImage = null, *gpuKernels = null;
  uint64_t gpuImageSize = 0;
  if (info.device == TFX_DEVICE_CUDA) {
    llvm::GlobalVariable *image = module.getGlobalVariable(info.gpuImageGlobal, true);
    if (!image || !image->hasInitializer())
      return error("the kernel image '" + info.gpuImageGlobal + "' is missing");
    gpuImage = image;
    gpuImageSize = module.getDataLayout().getTypeAllocSize(image->getValueType());
    gpuArch = b.string(info.gpuArch);
    std::vector<llvm::Constant *> names;
    for (const std::string &name : info.gpuKernels)
      names.push_back(b.string(name));
    if (!names.empty()) {
      auto type = llvm::ArrayType::get(b.ptr, names.size());
      gpuKernels = new llvm::GlobalVariable(module, type, true,
                                            llvm::GlobalValue::PrivateLinkage,
                                            llvm::ConstantArray::get(type, names),
                                            ".gpu_kernels");
    }
  }
  auto magic = llvm::ConstantDataArray::getString(b.ctx, TFX_ARTIFACT_MAGIC,
                                                  /*AddNull=*/false);
  llvm::Constant *artifact = llvm::ConstantStruct::get(
      b.artifactType,
      {magic, llvm::ConstantInt::get(b.i32, TFX_ARTIFACT_ABI_VERSION),
       llvm::ConstantInt::get(b.i32, entries.size()),
       llvm::ConstantInt::get(b.i64, info.cpuFeatures), b.string(info.targetCpu),
       b.string(info.modelName), weights,
       llvm::ConstantInt::get(b.i64, info.weightsSize), weightsFile,
       llvm::ConstantInt::get(b.i64, info.weightsChecksum), entryArray,
       llvm::ConstantInt::get(b.i32, info.device),
       llvm::ConstantInt::get(b.i32, info.gpuKernels.size()), gpuArch, gpuImage,
       llvm::ConstantInt::get(b.i64, gpuImageSize), gpuKernels});
  auto global = new llvm::GlobalVariable(module, b.artifactType, true,
                                         llvm::GlobalValue::ExternalLinkage, artifact,
                                         info.symbolPrefix + "_artifact");
  global->setAlignment(llvm::Align(8));
  if (info.exportMain)
    llvm::GlobalAlias::create(llvm::GlobalValue::ExternalLinkage,
                              "tfx_artifact_main", global);
  return llvm::Error::success();
}
