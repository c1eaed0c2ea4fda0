//===- Target.cpp - the x86-64 target of an artifact ----------------------===//

#include "Target.h"

#include "tfx/artifact.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

using namespace llvm;
using namespace mlir::tfx;

StringRef mlir::tfx::knownCpuNames() {
  return "native, cascadelake, skylake-avx512, icelake-server, "
         "sapphirerapids, znver4, x86-64-v4, x86-64-v3, x86-64-v2";
}

/// LLVM feature names of artifact.h's TFX_CPU_* bits.
static const std::pair<const char *, uint64_t> kFeatureBits[] = {
    {"sse4.2", TFX_CPU_SSE42},         {"avx", TFX_CPU_AVX},
    {"avx2", TFX_CPU_AVX2},            {"fma", TFX_CPU_FMA},
    {"f16c", TFX_CPU_F16C},            {"avx512f", TFX_CPU_AVX512F},
    {"avx512bw", TFX_CPU_AVX512BW},    {"avx512dq", TFX_CPU_AVX512DQ},
    {"avx512vl", TFX_CPU_AVX512VL},    {"avx512vnni", TFX_CPU_AVX512VNNI},
    {"avx512bf16", TFX_CPU_AVX512BF16}, {"avx512fp16", TFX_CPU_AVX512FP16},
    {"amx-tile", TFX_CPU_AMX_TILE},    {"amx-int8", TFX_CPU_AMX_INT8},
    {"amx-bf16", TFX_CPU_AMX_BF16}};

Expected<CpuTarget> mlir::tfx::createCpuTarget(StringRef cpu) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
  Triple triple("x86_64-unknown-linux-gnu");
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return createStringError(inconvertibleErrorCode(),
                             "no x86-64 backend in this LLVM: %s", error.c_str());
  CpuTarget result;
  if (cpu == "native") {
    result.cpu = sys::getHostCPUName().str();
    SmallVector<std::string> features;
    for (const auto &feature : sys::getHostCPUFeatures())
      features.push_back((feature.second ? "+" : "-") + feature.first().str());
    llvm::sort(features);
    result.features = join(features, ",");
  } else {
    result.cpu = cpu.str();
  }
  std::unique_ptr<MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, result.cpu, result.features));
  if (!subtarget || !subtarget->isCPUStringValid(result.cpu))
    return createStringError(inconvertibleErrorCode(),
                             "unknown CPU '%s' (try one of: %s)",
                             result.cpu.c_str(), knownCpuNames().data());
  for (auto [name, bit] : kFeatureBits)
    if (subtarget->checkFeatures(std::string("+") + name))
      result.featureBits |= bit;
  if (result.featureBits & TFX_CPU_AVX512F)
    result.vectorWidth = 16;
  else if (result.featureBits & TFX_CPU_AVX)
    result.vectorWidth = 8;

  TargetOptions options;
  // Fused multiply-add where the code multiplies then adds: faster, and
  // at least as accurate.
  options.AllowFPOpFusion = FPOpFusion::Fast;
  result.machine.reset(target->createTargetMachine(
      triple, result.cpu, result.features, options, Reloc::PIC_,
      CodeModel::Small, CodeGenOptLevel::Aggressive));
  if (!result.machine)
    return createStringError(inconvertibleErrorCode(),
                             "cannot create a target machine for CPU '%s'",
                             result.cpu.c_str());
  return result;
}
