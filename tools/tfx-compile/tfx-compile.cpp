//===- tfx-compile.cpp - import, transform and emit a model ---------------===//
//
// tfx-compile MODEL --emit=mlir [-o OUT] [--dim NAME=N] [--input-shape NAME=AxB]
// tfx-compile MODEL --target cpu -o NAME [--emit=obj|so|lib]
//             [--weights embed|external] [--cpu=native|cascadelake|...]
// tfx-compile MODEL --target cuda:sm_90 -o NAME [--emit=...] [--cuda-path DIR]
// Either form takes --passes=PIPELINE: tfx passes (compression) run on the
// imported module before it is emitted; --quantize=SCHEME names a
// quantization pipeline; --auto-compress --max-ppl-increase P% (or
// --min-agreement A, --max-error X) --calibration CAL chooses one per
// linear and writes its plan, which --plan FILE replays.
// tfx-compile MODEL --decoder [--decode-batch 1,4] [--prefill-tokens N]
//             [--verify-tokens N] [--kv-block-size N] [--context N]
//             [--kv-blocks N] [--keep-layers N] ...   (generation entries)
//
//===----------------------------------------------------------------------===//

#include "tfx/Codegen/Codegen.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Passes/Passes.h"
#include "tfx/Passes/Report.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace llvm;

static cl::OptionCategory category("tfx-compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("MODEL"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    emit("emit",
         cl::desc("What to emit: mlir; with --target cpu: obj (default), so, lib"),
         cl::init(""), cl::cat(category));
static cl::opt<std::string> target("target",
                                   cl::desc("Compile for a target: cpu, or cuda:CHIP "
                                            "(cuda:sm_90, cuda:sm_90a, cuda:sm_89, cuda:sm_80)"),
                                   cl::init(""), cl::cat(category));
static cl::opt<std::string> gpuPrecision(
    "gpu-matmul-precision",
    cl::desc("Inputs of matmuls on the GPU: f32 (default), or f16 (rounded, then "
             "multiplied on the tensor cores with f32 sums)"),
    cl::init("f32"), cl::cat(category));
static cl::opt<std::string> cudaPath("cuda-path",
                                     cl::desc("CUDA toolkit for --target cuda (its bin/ptxas; "
                                              "default: $CUDA_PATH, /usr/local/cuda, PATH)"),
                                     cl::init(""), cl::cat(category));
static cl::opt<std::string> cpu("cpu",
                                cl::desc("Target CPU: native (default), cascadelake, "
                                         "skylake-avx512, x86-64-v3, x86-64-v2, ..."),
                                cl::init("native"), cl::cat(category));
static cl::opt<std::string>
    weightsMode("weights",
                cl::desc("Weights: embed (in the artifact, default) or external "
                         "(NAME.weights beside it)"),
                cl::init("embed"), cl::cat(category));
static cl::opt<int64_t> parallelMinWork(
    "parallel-min-work",
    cl::desc("Loop iterations below which an op outside the kernels runs "
             "sequentially"),
    cl::init(32768), cl::Hidden, cl::cat(category));
static cl::opt<bool> noKernels("no-kernels",
                               cl::desc("Plain linalg lowering, without the "
                                        "tiled/vectorized CPU kernels"),
                               cl::cat(category));
static cl::opt<std::string> outputPath("o", cl::desc("Output file ('-' = stdout)"),
                                       cl::init("-"), cl::cat(category));
static cl::list<std::string>
    dims("dim", cl::desc("Size of a symbolic ONNX dimension, NAME=N"),
         cl::cat(category));
static cl::list<std::string>
    inputShapes("input-shape", cl::desc("Static shape of an input, NAME=AxBxC"),
                cl::cat(category));
static cl::opt<std::string>
    passes("passes",
           cl::desc("Passes to run on the imported model before emitting it, "
                    "as a pipeline: 'tfx-prune-heads{ratio=0.25 "
                    "calibration=cal.safetensors},tfx-low-rank{rank-ratio=0.5}'"),
           cl::init(""), cl::cat(category));
static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantize the linear layers' weights after --passes: w8 (int8 per "
             "output channel), w8-g<N>, w4 (int4 in groups of 128), w4-g<N>, "
             "-gptq for error-compensating rounding; w8a8 (and int8 "
             "activations per row, computed at run time), "
             "w8a8-static[-asym][-mse|-pct<P>] (one calibrated range per "
             "layer input), -sq[<alpha>] (SmoothQuant first); -emb (any "
             "scheme) also stores embedding tables as int8. GPTQ, static "
             "ranges and SmoothQuant need --calibration"),
    cl::value_desc("SCHEME"), cl::cat(category));
static cl::opt<std::string> calibrationPath(
    "calibration",
    cl::desc("Calibration inputs for --quantize: .safetensors (tensors "
             "input.<name>) or .txt (text for the tokenizer.json beside the "
             "model); the report measures fidelity on them"),
    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<double> maxError(
    "max-error",
    cl::desc("With --quantize: keep the most sensitive linears in higher "
             "precision (int8 for w4, float for w8 and w8a8) until the "
             "outputs' relative L2 error on --calibration is at most this"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string> reportPath(
    "report",
    cl::desc("Write what --quantize/--passes did and what it cost: per-layer "
             "bits and bytes, the model's size before and after, and the "
             "fidelity against the float model on --calibration and "
             "--held-out (Markdown; JSON when FILE ends in .json)"),
    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<std::string> heldOutPath(
    "held-out",
    cl::desc("Held-out inputs for --report (.safetensors or .txt like "
             "--calibration, never used to compress)"),
    cl::value_desc("FILE"), cl::cat(category));
static cl::opt<int64_t> heldOutBatches("held-out-batches",
                                       cl::desc("Batches of --held-out to run (0: all)"),
                                       cl::init(0), cl::cat(category));
static cl::OptionCategory autoCategory("tfx-compile automatic compression options");
static cl::opt<bool> autoCompress(
    "auto-compress",
    cl::desc("Choose a compression for every linear (int8, int4-g128 GPTQ, W8A8, "
             "2:4, low rank) that meets a budget (--max-ppl-increase, "
             "--min-agreement or --max-error) on --calibration and --held-out "
             "with the smallest (--objective size) or fastest model; prints the "
             "plan, writes it (--save-plan) and, with --report FILE.html, a page "
             "of the search"),
    cl::cat(autoCategory));
static cl::opt<std::string> maxPplIncrease(
    "max-ppl-increase",
    cl::desc("Budget of --auto-compress: perplexity may rise by at most this "
             "(2% or 2, in percent)"),
    cl::value_desc("PERCENT"), cl::cat(autoCategory));
static cl::opt<double> minAgreement(
    "min-agreement",
    cl::desc("Budget of --auto-compress: top-1 agreement of the logits with the "
             "float model, at least this (0.99)"),
    cl::init(0), cl::cat(autoCategory));
static cl::opt<std::string> objective("objective",
                                      cl::desc("What --auto-compress minimizes: size "
                                               "(default) or latency"),
                                      cl::init("size"), cl::cat(autoCategory));
static cl::opt<std::string> autoChoices(
    "auto-choices",
    cl::desc("Schemes --auto-compress chooses from (default int8,int4-g128,int4,w8a8,2:4,"
             "low-rank+int8,low-rank+int4,low-rank+w8a8; also low-rank)"),
    cl::value_desc("LIST"), cl::cat(autoCategory));
static cl::opt<int64_t> sensitivityBatches(
    "sensitivity-batches",
    cl::desc("Calibration batches each --auto-compress sensitivity measurement runs (2)"),
    cl::init(2), cl::cat(autoCategory));
static cl::opt<std::string> savePlan(
    "save-plan",
    cl::desc("Where --auto-compress writes its plan (default NAME.plan.json "
             "beside -o NAME)"),
    cl::value_desc("FILE"), cl::cat(autoCategory));
static cl::opt<std::string> planPath(
    "plan",
    cl::desc("Replay a plan that --auto-compress wrote: the same passes, the same "
             "model, bit for bit"),
    cl::value_desc("FILE"), cl::cat(autoCategory));
static cl::opt<bool> noRaise("no-raise",
                             cl::desc("Keep the imported ONNX ops unraised"),
                             cl::cat(category));

static cl::OptionCategory decoderCategory("tfx-compile generation options");
static cl::opt<bool> decoder(
    "decoder",
    cl::desc("Compile a causal decoder's generation steps over a paged KV "
             "cache (entries prefill, decode[, decode_bN, verify]) instead of "
             "its forward pass"),
    cl::cat(decoderCategory));
static cl::list<int64_t> decodeBatch(
    "decode-batch",
    cl::desc("Batch sizes of the decode entries (default 1; the largest is "
             "`decode`, the others `decode_bN`)"),
    cl::CommaSeparated, cl::cat(decoderCategory));
static cl::opt<int64_t> prefillTokens("prefill-tokens",
                                      cl::desc("Tokens per prefill call (16)"),
                                      cl::init(16), cl::cat(decoderCategory));
static cl::opt<int64_t> verifyTokens(
    "verify-tokens",
    cl::desc("Tokens of the `verify` entry for speculative decoding (draft "
             "tokens + 1; 0: no such entry)"),
    cl::init(0), cl::cat(decoderCategory));
static cl::opt<int64_t> kvBlockSize("kv-block-size",
                                    cl::desc("Tokens per KV cache block (16)"),
                                    cl::init(16), cl::cat(decoderCategory));
static cl::opt<int64_t> contextTokens(
    "context",
    cl::desc("Tokens one sequence may hold (default: the learned position "
             "table, else 1024)"),
    cl::init(0), cl::cat(decoderCategory));
static cl::opt<int64_t> kvBlocks(
    "kv-blocks",
    cl::desc("Blocks of the shared KV pool (default: the largest decode "
             "batch at full context)"),
    cl::init(0), cl::cat(decoderCategory));
static cl::opt<int64_t> keepLayers(
    "keep-layers",
    cl::desc("Keep only the first N layers of a Hugging Face decoder (a "
             "draft model for speculative decoding)"),
    cl::init(0), cl::cat(decoderCategory));

/// A number as a pass option reads it back unchanged.
static std::string optionNumber(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

/// The tfx-auto-compress invocation the --auto-compress options ask for.
static std::optional<std::string> autoCompressPipeline(bool htmlReport,
                                                       std::string &plan) {
  std::string budget;
  int budgets = 0;
  if (!maxPplIncrease.empty()) {
    StringRef text = StringRef(maxPplIncrease).trim();
    text.consume_back("%");
    double percent;
    if (text.getAsDouble(percent) || !(percent > 0)) {
      errs() << "tfx-compile: bad --max-ppl-increase '" << maxPplIncrease
             << "' (a percentage > 0: 2% or 2)\n";
      return std::nullopt;
    }
    budget = " max-ppl-increase=" + text.str();
    ++budgets;
  }
  if (minAgreement.getNumOccurrences()) {
    if (!(minAgreement > 0 && minAgreement <= 1)) {
      errs() << "tfx-compile: --min-agreement must be in (0, 1]\n";
      return std::nullopt;
    }
    budget += " min-agreement=" + optionNumber(minAgreement);
    ++budgets;
  }
  if (maxError.getNumOccurrences()) {
    budget += " max-error=" + optionNumber(maxError);
    ++budgets;
  }
  if (budgets != 1) {
    errs() << "tfx-compile: --auto-compress needs one budget: --max-ppl-increase, "
              "--min-agreement or --max-error\n";
    return std::nullopt;
  }
  if (calibrationPath.empty()) {
    errs() << "tfx-compile: --auto-compress needs --calibration\n";
    return std::nullopt;
  }
  if (!quantize.empty() || decoder) {
    errs() << "tfx-compile: --auto-compress chooses the quantization itself; it does "
              "not combine with --quantize or --decoder\n";
    return std::nullopt;
  }
  plan = savePlan;
  if (plan.empty() && outputPath != "-") {
    StringRef base = outputPath;
    for (StringRef ext : {".o", ".so", ".a", ".mlir"})
      if (base.ends_with(ext)) {
        base = base.drop_back(ext.size());
        break;
      }
    plan = base.str() + ".plan.json";
  }
  std::string pass = "tfx-auto-compress{" + budget.substr(1) + " objective=" + objective +
                     " target=" + (StringRef(target).starts_with("cuda") ? "cuda" : "cpu") +
                     " calibration=" + calibrationPath;
  if (!autoChoices.empty())
    pass += " choices=" + autoChoices;
  if (sensitivityBatches.getNumOccurrences())
    pass += " sensitivity-batches=" + std::to_string(sensitivityBatches);
  if (!heldOutPath.empty())
    pass += " held-out=" + heldOutPath;
  if (heldOutBatches)
    pass += " held-out-batches=" + std::to_string(heldOutBatches);
  if (!plan.empty())
    pass += " save-plan=" + plan;
  if (htmlReport)
    pass += " html-report=" + reportPath;
  return pass + "}";
}

static bool parseShapeOptions(mlir::tfx::ImportOptions &options) {
  for (const std::string &d : dims) {
    auto [name, value] = StringRef(d).split('=');
    int64_t n;
    if (value.getAsInteger(10, n) || n <= 0) {
      errs() << "tfx-compile: bad --dim '" << d << "' (expected NAME=N)\n";
      return false;
    }
    options.dims[name] = n;
  }
  for (const std::string &s : inputShapes) {
    auto [name, value] = StringRef(s).split('=');
    SmallVector<StringRef> parts;
    value.split(parts, 'x');
    std::vector<int64_t> shape;
    for (StringRef p : parts) {
      int64_t n;
      if (p.getAsInteger(10, n) || n <= 0) {
        errs() << "tfx-compile: bad --input-shape '" << s
               << "' (expected NAME=AxBxC)\n";
        return false;
      }
      shape.push_back(n);
    }
    options.inputShapes[name] = shape;
  }
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions({&category, &autoCategory, &decoderCategory});
  cl::AddExtraVersionPrinter(
      [](raw_ostream &os) { os << "tfx-compile " TFX_VERSION "\n"; });
  cl::ParseCommandLineOptions(argc, argv,
                              "tfx-compile: import a transformer and emit it\n");

  mlir::tfx::ImportOptions options;
  options.raise = !noRaise;
  options.keepLayers = keepLayers;
  mlir::tfx::DecoderStepOptions steps;
  steps.blockSize = kvBlockSize;
  steps.context = contextTokens;
  steps.blocks = kvBlocks;
  steps.prefillTokens = prefillTokens;
  steps.verifyTokens = verifyTokens;
  if (!decodeBatch.empty())
    steps.decodeBatches.assign(decodeBatch.begin(), decodeBatch.end());
  if (!decoder && (decodeBatch.getNumOccurrences() ||
                   prefillTokens.getNumOccurrences() ||
                   verifyTokens.getNumOccurrences() ||
                   kvBlockSize.getNumOccurrences() ||
                   contextTokens.getNumOccurrences() ||
                   kvBlocks.getNumOccurrences())) {
    errs() << "tfx-compile: the generation options need --decoder\n";
    return 2;
  }
  if (!parseShapeOptions(options))
    return 2;
  mlir::tfx::CompileOptions compile;
  if (target.empty()) {
    if (!emit.empty() && emit != "mlir") {
      errs() << "tfx-compile: unknown --emit=" << emit
             << " (supported: mlir; obj, so and lib need --target cpu)\n";
      return 2;
    }
  } else if (target == "cpu" || StringRef(target).starts_with("cuda")) {
    if (StringRef(target).starts_with("cuda")) {
      StringRef chip = StringRef(target).drop_front(4);
      if (!chip.consume_front(":") ||
          !llvm::is_contained({"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a"}, chip)) {
        errs() << "tfx-compile: unknown --target=" << target
               << " (supported: cuda:sm_80, cuda:sm_86, cuda:sm_89, cuda:sm_90, "
                  "cuda:sm_90a)\n";
        return 2;
      }
      compile.cuda = true;
      compile.gpuChip = chip.str();
      compile.cudaToolkit = cudaPath;
      if (gpuPrecision != "f32" && gpuPrecision != "f16") {
        errs() << "tfx-compile: unknown --gpu-matmul-precision=" << gpuPrecision
               << " (supported: f32, f16)\n";
        return 2;
      }
      compile.gpuMatmulPrecision = gpuPrecision;
    }
    if (emit.empty() || emit == "obj")
      compile.kind = mlir::tfx::ArtifactKind::Object;
    else if (emit == "so")
      compile.kind = mlir::tfx::ArtifactKind::SharedObject;
    else if (emit == "lib")
      compile.kind = mlir::tfx::ArtifactKind::StaticLibrary;
    else {
      errs() << "tfx-compile: unknown --emit=" << emit
             << " for --target " << target << " (supported: obj, so, lib)\n";
      return 2;
    }
    if (weightsMode == "embed")
      compile.weights = mlir::tfx::WeightsMode::Embed;
    else if (weightsMode == "external")
      compile.weights = mlir::tfx::WeightsMode::External;
    else {
      errs() << "tfx-compile: unknown --weights=" << weightsMode
             << " (supported: embed, external)\n";
      return 2;
    }
    if (outputPath == "-") {
      errs() << "tfx-compile: --target " << target << " needs -o NAME (writes NAME.o/.so/.a "
                "and NAME.h)\n";
      return 2;
    }
    compile.cpu = cpu;
    compile.kernels = !noKernels;
    compile.parallelMinWork = parallelMinWork;
  } else {
    errs() << "tfx-compile: unknown --target=" << target
           << " (supported: cpu, cuda:CHIP)\n";
    return 2;
  }

  mlir::tfx::registerTfxPasses();
  mlir::tfx::registerTfxPipelines();
  mlir::MLIRContext ctx;
  mlir::DialectRegistry registry;
  mlir::tfx::registerTfxDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);

  bool htmlReport = StringRef(reportPath).ends_with(".html");
  std::string searchPass, planFile;
  bool savePlanIsTemporary = false;
  if (autoCompress) {
    auto pipeline = autoCompressPipeline(htmlReport, planFile);
    if (!pipeline)
      return 2;
    searchPass = *pipeline;
  } else if (!maxPplIncrease.empty() || minAgreement.getNumOccurrences() ||
             objective.getNumOccurrences() || !savePlan.empty() || !autoChoices.empty() ||
             sensitivityBatches.getNumOccurrences()) {
    errs() << "tfx-compile: --max-ppl-increase, --min-agreement, --objective, "
              "--auto-choices, --sensitivity-batches and --save-plan are for "
              "--auto-compress\n";
    return 2;
  } else if (htmlReport) {
    errs() << "tfx-compile: an HTML --report draws an --auto-compress search; use "
              ".md or .json for other reports\n";
    return 2;
  }
  if (!planPath.empty() && (autoCompress || !quantize.empty() || decoder)) {
    errs() << "tfx-compile: --plan replays a plan by itself; it does not combine "
              "with --auto-compress, --quantize or --decoder\n";
    return 2;
  }
  if (!quantize.empty()) {
    auto pipeline = mlir::tfx::quantizationPipeline(quantize, calibrationPath, maxError);
    if (!pipeline) {
      errs() << "tfx-compile: --quantize: " << toString(pipeline.takeError()) << "\n";
      return 2;
    }
    passes = passes.empty() ? *pipeline : passes + "," + *pipeline;
  } else if (!calibrationPath.empty() && reportPath.empty() && !autoCompress) {
    errs() << "tfx-compile: --calibration is for --quantize and --report; passes "
              "take their own calibration= option\n";
    return 2;
  }
  if (maxError != 0 && ((quantize.empty() && !autoCompress) || maxError < 0)) {
    errs() << "tfx-compile: --max-error needs --quantize or --auto-compress and a "
              "budget > 0\n";
    return 2;
  }
  if (!heldOutPath.empty() && reportPath.empty() && !autoCompress) {
    errs() << "tfx-compile: --held-out is for --report and --auto-compress\n";
    return 2;
  }
  if (!reportPath.empty() && decoder) {
    errs() << "tfx-compile: --report compares forward passes; it does not "
              "combine with --decoder\n";
    return 2;
  }
  // --auto-compress searches in a context of its own and writes the plan;
  // the artifact is then built from the plan file exactly as --plan builds
  // it, so that replaying the plan reproduces it bit for bit.
  if (autoCompress) {
    savePlanIsTemporary = planFile.empty();
    if (savePlanIsTemporary) {
      SmallString<128> path;
      if (std::error_code ec = sys::fs::createTemporaryFile("tfx-plan", "json", path)) {
        errs() << "tfx-compile: cannot create a plan file: " << ec.message() << "\n";
        return 1;
      }
      planFile = path.str().str();
      searchPass.insert(searchPass.size() - 1, " save-plan=" + planFile);
    }
    {
      mlir::MLIRContext searchCtx;
      searchCtx.appendDialectRegistry(registry);
      searchCtx.loadAllAvailableDialects();
      llvm::SourceMgr searchSources;
      mlir::SourceMgrDiagnosticHandler searchDiagnostics(searchSources, &searchCtx);
      mlir::OwningOpRef<mlir::ModuleOp> searched =
          mlir::tfx::importModel(modelPath, searchCtx, options);
      if (!searched || failed(mlir::verify(*searched)))
        return 1;
      mlir::PassManager pm(&searchCtx, mlir::ModuleOp::getOperationName());
      std::string message;
      llvm::raw_string_ostream os(message);
      if (failed(mlir::parsePassPipeline(passes.empty() ? searchPass
                                                        : passes + "," + searchPass,
                                         pm, os))) {
        errs() << "tfx-compile: bad --passes: " << message << "\n";
        return 2;
      }
      if (failed(pm.run(*searched)))
        return 1;
    }
    planPath = planFile;
  }
  llvm::scope_exit removeTemporaryPlan([&] {
    if (autoCompress && savePlanIsTemporary)
      sys::fs::remove(planFile);
  });

  // With --decoder the passes run on each step's import, before it
  // becomes a cached step.
  steps.passes = passes;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      decoder ? mlir::tfx::importDecoderSteps(modelPath, ctx, options, steps)
              : mlir::tfx::importModel(modelPath, ctx, options);
  if (!module || failed(mlir::verify(*module)))
    return 1;

  if (!planPath.empty()) {
    auto pipeline = mlir::tfx::planPipeline(planPath, *module);
    if (!pipeline) {
      errs() << "tfx-compile: --plan: " << toString(pipeline.takeError()) << "\n";
      return 1;
    }
    passes = passes.empty() ? *pipeline : passes + "," + *pipeline;
  }

  // The float model, kept for the report's comparison.
  mlir::OwningOpRef<mlir::ModuleOp> original;
  if (!reportPath.empty() && !htmlReport)
    original = module->clone();
  if (!passes.empty() && !decoder) {
    mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
    std::string message;
    llvm::raw_string_ostream os(message);
    if (failed(mlir::parsePassPipeline(passes, pm, os))) {
      errs() << "tfx-compile: bad --passes: " << message << "\n";
      return 2;
    }
    if (failed(pm.run(*module)))
      return 1;
  }

  // The report is measured before code generation and written after it,
  // so that a failure leaves neither behind.
  std::string report;
  if (!reportPath.empty() && !htmlReport) {
    mlir::tfx::ReportOptions reportOptions;
    reportOptions.model = modelPath;
    reportOptions.recipe =
        (quantize.empty() ? std::string() : "--quantize=" + quantize + ": ") + passes;
    reportOptions.calibrationPath = calibrationPath;
    reportOptions.heldOutPath = heldOutPath;
    reportOptions.heldOutBatches = heldOutBatches;
    auto text = mlir::tfx::compressionReport(*original, *module, reportOptions,
                                             StringRef(reportPath).ends_with(".json"));
    if (!text) {
      errs() << "tfx-compile: --report: " << toString(text.takeError()) << "\n";
      return 1;
    }
    report = std::move(*text);
  }
  auto writeReport = [&]() -> int {
    if (reportPath.empty() || htmlReport)
      return 0;
    std::string error;
    auto file = mlir::openOutputFile(reportPath, &error);
    if (!file) {
      errs() << "tfx-compile: --report: " << error << "\n";
      return 1;
    }
    file->os() << report;
    file->keep();
    errs() << "tfx-compile: report written to " << reportPath << "\n";
    return 0;
  };

  if (!target.empty()) {
    // NAME may carry the extension of what it names.
    StringRef base = outputPath;
    for (StringRef ext : {".o", ".so", ".a"})
      if (base.ends_with(ext)) {
        base = base.drop_back(ext.size());
        break;
      }
    auto files = mlir::tfx::compileToArtifact(*module, base, compile);
    if (!files) {
      errs() << "tfx-compile: " << toString(files.takeError()) << "\n";
      return 1;
    }
    return writeReport();
  }

  std::string error;
  auto output = mlir::openOutputFile(outputPath, &error);
  if (!output) {
    errs() << "tfx-compile: " << error << "\n";
    return 1;
  }
  module->print(output->os(), mlir::OpPrintingFlags().enableDebugInfo(false));
  output->keep();
  return writeReport();
}
