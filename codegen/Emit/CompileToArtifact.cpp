//===- CompileToArtifact.cpp - tfx module -> object/.so/.a + header -------===//
//
// The MLIR pipeline lowers the module to the LLVM dialect; LLVM's O3
// pipeline and the TargetMachine of the chosen CPU make the object code,
// next to the descriptor and the packed weights. Every file goes to a
// temporary first and is renamed into place only when all of them are
// complete.
//
//===----------------------------------------------------------------------===//

#include "tfx/Codegen/Codegen.h"

#include "Descriptor.h"
#include "Header.h"
#include "Link.h"
#include "Target.h"
#include "tfx/artifact.h"
#include "WeightBlob.h"
#include "tfx/Codegen/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::tfx;

static llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {
/// Temporary files that become the outputs on commit() and disappear
/// otherwise.
class PendingFiles {
public:
  ~PendingFiles() {
    for (auto &[temp, final] : files)
      if (!temp.empty())
        llvm::sys::fs::remove(temp);
  }
  /// A new temporary next to `finalPath`; with `keep` false it is only
  /// scratch and never renamed.
  llvm::Expected<std::string> create(llvm::StringRef finalPath, bool keep = true) {
    llvm::SmallString<256> temp;
    std::string model = finalPath.str() + ".%%%%%%.tmp";
    if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, temp))
      return error("cannot create a file next to '" + finalPath + "': " +
                   ec.message());
    files.push_back({temp.str().str(), keep ? finalPath.str() : std::string()});
    return temp.str().str();
  }
  llvm::Error commit() {
    for (auto &[temp, final] : files) {
      if (final.empty())
        continue;
      if (std::error_code ec = llvm::sys::fs::rename(temp, final))
        return error("cannot write '" + final + "': " + ec.message());
      temp.clear();
    }
    return llvm::Error::success();
  }

private:
  std::vector<std::pair<std::string, std::string>> files;
};
} // namespace

static llvm::Error writeFile(llvm::StringRef path,
                             llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return error("cannot write '" + path + "': " + ec.message());
  write(os);
  os.close();
  if (os.has_error())
    return error("cannot write '" + path + "': " + os.error().message());
  return llvm::Error::success();
}

static void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager passes =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  passes.run(module, mam);
}

static llvm::Error emitObject(llvm::Module &module, llvm::TargetMachine &machine,
                              llvm::StringRef path) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return error("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, os, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return error("the target cannot emit object files");
  passes.run(module);
  os.close();
  if (os.has_error())
    return error("cannot write '" + path + "': " + os.error().message());
  return llvm::Error::success();
}

llvm::Expected<ArtifactFiles>
mlir::tfx::compileToArtifact(ModuleOp module, llvm::StringRef outputBase,
                             const CompileOptions &options) {
  MLIRContext *ctx = module.getContext();
  DialectRegistry registry;
  registerCodegenDialects(registry);
  ctx->appendDialectRegistry(registry);

  // A CUDA artifact's host code only launches kernels: any x86-64 will do.
  llvm::Expected<CpuTarget> target = createCpuTarget(options.cuda ? "x86-64" : options.cpu);
  if (!target)
    return target.takeError();

  // Keep what emission needs before the pipeline rewrites the module.
  PassManager pm(ctx);
  if (options.cuda) {
    llvm::Expected<std::string> toolkit = findCudaToolkit(options.cudaToolkit);
    if (!toolkit)
      return toolkit.takeError();
    GpuPipelineOptions pipeline;
    pipeline.chip = options.gpuChip;
    pipeline.toolkitPath = *toolkit;
    pipeline.matmulPrecision = options.gpuMatmulPrecision;
    buildGpuPipeline(pm, pipeline);
  } else {
    CpuPipelineOptions pipeline;
    pipeline.kernels = options.kernels;
    pipeline.vectorWidth = target->vectorWidth;
    pipeline.vnni = target->vectorWidth == 16 && (target->featureBits & TFX_CPU_AVX512VNNI);
    pipeline.parallelMinWork = options.parallelMinWork;
    buildCpuPipeline(pm, pipeline);
  }
  if (failed(pm.run(module)))
    return error(llvm::Twine(options.cuda ? "CUDA" : "CPU") +
                 " code generation failed (see the diagnostics above)");

  FailureOr<WeightPlan> plan = WeightPlan::load(module);
  if (failed(plan))
    return error("the weight plan is malformed");
  llvm::Expected<std::vector<EntryInfo>> entries = collectEntries(module);
  if (!entries)
    return entries.takeError();
  llvm::Expected<std::vector<uint8_t>> weights = packWeights(module, *plan);
  if (!weights)
    return weights.takeError();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, outputBase);
  if (!llvmModule)
    return error("translation to LLVM IR failed");
  llvm::TargetMachine &machine = *target->machine;
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple());
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", target->cpu);
    if (!target->features.empty())
      f.addFnAttr("target-features", target->features);
    if (target->vectorWidth == 16) {
      // Without these, x86 splits 512-bit vectors on CPUs that prefer 256.
      f.addFnAttr("prefer-vector-width", "512");
      f.addFnAttr("min-legal-vector-width", "512");
    }
    f.addFnAttr(llvm::Attribute::NoUnwind);
  }

  ArtifactFiles files;
  std::string prefix = options.modelName.empty() ? artifactSymbolPrefix(outputBase)
                                                 : cIdentifier(options.modelName);
  DescriptorInfo info;
  info.symbolPrefix = prefix;
  info.modelName = options.modelName.empty()
                       ? llvm::sys::path::stem(outputBase).str()
                       : options.modelName;
  info.targetCpu = target->cpu;
  info.cpuFeatures = target->featureBits;
  info.weightsSize = weights->size();
  info.weightsChecksum = weightsChecksum(*weights);
  info.exportMain = options.kind == ArtifactKind::SharedObject;
  info.entries = std::move(*entries);
  if (options.cuda) {
    info.device = TFX_DEVICE_CUDA;
    info.gpuArch = options.gpuChip;
    if (auto image = module->getAttrOfType<StringAttr>("tfx.gpu_image"))
      info.gpuImageGlobal = image.str();
    if (auto kernels = module->getAttrOfType<ArrayAttr>("tfx.gpu_kernels"))
      for (Attribute name : kernels)
        info.gpuKernels.push_back(cast<StringAttr>(name).str());
    if (info.gpuImageGlobal.empty() || info.gpuKernels.empty())
      return error("CUDA code generation produced no kernels");
  }
  if (options.weights == WeightsMode::External && !weights->empty()) {
    files.weights = (outputBase + ".weights").str();
    info.weightsFile = llvm::sys::path::filename(files.weights).str();
  } else {
    info.embeddedWeights = *weights;
  }
  if (llvm::Error err = addDescriptor(*llvmModule, info))
    return err;
  optimize(*llvmModule, machine);

  PendingFiles pending;
  const char *extension = options.kind == ArtifactKind::SharedObject ? ".so"
                          : options.kind == ArtifactKind::StaticLibrary ? ".a"
                                                                        : ".o";
  files.artifact = (outputBase + extension).str();
  files.header = (outputBase + ".h").str();
  llvm::Expected<std::string> objectTemp = pending.create(
      (outputBase + ".o").str(), options.kind == ArtifactKind::Object);
  if (!objectTemp)
    return objectTemp.takeError();
  if (llvm::Error err = emitObject(*llvmModule, machine, *objectTemp))
    return err;
  llvmModule.reset();

  if (options.kind != ArtifactKind::Object) {
    llvm::Expected<std::string> temp = pending.create(files.artifact);
    if (!temp)
      return temp.takeError();
    llvm::Error err =
        options.kind == ArtifactKind::SharedObject
            ? linkSharedObject(*objectTemp, *temp)
            : writeStaticLibrary(*objectTemp, (prefix + ".o"), *temp);
    if (err)
      return err;
  }
  llvm::Expected<std::string> headerTemp = pending.create(files.header);
  if (!headerTemp)
    return headerTemp.takeError();
  if (llvm::Error err = writeFile(*headerTemp, [&](llvm::raw_ostream &os) {
        writeHeader(os, info);
      }))
    return err;
  if (!files.weights.empty()) {
    llvm::Expected<std::string> temp = pending.create(files.weights);
    if (!temp)
      return temp.takeError();
    if (llvm::Error err = writeFile(*temp, [&](llvm::raw_ostream &os) {
          os.write((const char *)weights->data(), weights->size());
        }))
      return err;
  }
  if (llvm::Error err = pending.commit())
    return err;
  return files;
}
