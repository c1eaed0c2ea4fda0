//===- tfx-run.cpp - run a model on the reference interpreter -------------===//
//
// tfx-run MODEL --generate --prompt-ids FILE | --prompt TEXT [--draft ...]
// tfx-run MODEL --serve-bench N [--max-batch B]
// tfx-run MODEL --inputs IN.safetensors [--output OUT.safetensors]
//         [--check REF.safetensors --rtol R --atol A] [--backend interp]
//         [--dim NAME=N] [--no-raise] [--print]
//         [--backend cpu|cuda [--threads N] [--bench N]]
// tfx-run MODEL --perplexity TOKENS.safetensors [--rows N] [--compare FLOAT]
//
// Inputs are the `input.<name>` tensors of IN; outputs are written as
// `output.<name>`. Their shapes also fix the model's input shapes at import,
// so that dynamic ONNX dimensions become static.
//
//===----------------------------------------------------------------------===//

#include "CpuBackend.h"
#include "Evaluate.h"
#include "Generate.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/SafeTensors.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

using namespace llvm;
using mlir::tfx::Tensor;

static cl::OptionCategory category("tfx-run options");
static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("MODEL (folder, .onnx or .mlir)"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> inputsPath("inputs",
                                       cl::desc("Inputs as input.<name> tensors"),
                                       cl::value_desc("IN.safetensors"),
                                       cl::cat(category));
static cl::opt<std::string> outputPath("output",
                                       cl::desc("Write outputs as output.<name>"),
                                       cl::value_desc("OUT.safetensors"),
                                       cl::cat(category));
static cl::opt<std::string> checkPath(
    "check", cl::desc("Compare with the output.<name> tensors of REF"),
    cl::value_desc("REF.safetensors"), cl::cat(category));
static cl::opt<double> relTol("rtol", cl::desc("Relative tolerance of --check"),
                            cl::init(1e-4), cl::cat(category));
static cl::opt<double> absTol("atol", cl::desc("Absolute tolerance of --check"),
                            cl::init(1e-5), cl::cat(category));
static cl::opt<std::string> backend("backend",
                                    cl::desc("Execution backend: interp (reference "
                                             "interpreter), cpu or cuda (compiled code)"),
                                    cl::init("interp"), cl::cat(category));
static cl::list<std::string>
    dims("dim", cl::desc("Size of a symbolic ONNX dimension, NAME=N"),
         cl::cat(category));
static cl::opt<bool> noRaise("no-raise",
                             cl::desc("Keep the imported ONNX ops unraised"),
                             cl::cat(category));
static cl::opt<bool> printAll("print", cl::desc("Print every output value"),
                              cl::cat(category));
static cl::opt<std::string> perplexityPath(
    "perplexity",
    cl::desc("Evaluate a language model on the input_ids [rows, seq] of "
             "TOKENS: held-out perplexity (replaces --inputs)"),
    cl::value_desc("TOKENS.safetensors"), cl::cat(category));
static cl::opt<std::string> comparePath(
    "compare",
    cl::desc("With --perplexity: also run MODEL2 (e.g. the float model) and "
             "print its perplexity and the top-1 agreement of the logits"),
    cl::value_desc("MODEL2"), cl::cat(category));
static cl::opt<int64_t> evalRows("rows",
                                 cl::desc("With --perplexity: the first N rows "
                                          "only (0 = all)"),
                                 cl::init(0), cl::cat(category));

static constexpr StringLiteral kInputPrefix = "input.", kOutputPrefix = "output.";

static int fail(const Twine &message) {
  errs() << "tfx-run: " << message << "\n";
  return 1;
}

static void printValues(raw_ostream &os, const Tensor &t, int64_t limit) {
  int64_t count = t.numElements(), shown = std::min(count, limit);
  os << "[";
  for (int64_t n = 0; n < shown; ++n)
    os << (n ? ", " : "") << format("%.6g", t.at(n));
  if (shown < count)
    os << ", ...";
  os << "]";
}

/// Compares one output with its reference; prints one line; true if it passes
/// numpy.allclose(actual, expected, rtol, atol).
static bool checkOutput(StringRef name, const Tensor &actual,
                        const Tensor &expected) {
  outs() << name << ": ";
  if (actual.shape != expected.shape) {
    outs() << "shape " << actual.shapeString() << " differs from the reference "
           << expected.shapeString() << " FAIL\n";
    return false;
  }
  double maxAbs = 0.0, maxRef = 0.0;
  bool pass = true;
  for (int64_t n = 0, count = actual.numElements(); n < count; ++n) {
    double a = actual.at(n), b = expected.at(n), diff = std::fabs(a - b);
    bool close = diff <= absTol + relTol * std::fabs(b) || (a == b); // a == b: equal infinities
    if (!close || std::isnan(diff)) {
      pass = false;
      if (std::isnan(diff))
        diff = INFINITY;
    }
    maxAbs = std::max(maxAbs, diff);
    maxRef = std::max(maxRef, std::fabs(b));
  }
  double maxRel = maxRef > 0.0 ? maxAbs / maxRef : (maxAbs > 0.0 ? INFINITY : 0.0);
  outs() << "max_abs_err=" << format("%.3e", maxAbs)
         << " max_rel_err=" << format("%.3e", maxRel) << " (rtol=" << format("%g", (double)relTol)
         << " atol=" << format("%g", (double)absTol) << ") " << (pass ? "OK" : "FAIL")
         << "\n";
  return pass;
}

static bool parseDims(mlir::tfx::ImportOptions &options) {
  for (const std::string &d : dims) {
    auto [name, value] = StringRef(d).split('=');
    int64_t n;
    if (name.empty() || value.getAsInteger(10, n) || n <= 0) {
      errs() << "tfx-run: bad --dim '" << d << "' (expected NAME=N, N > 0)\n";
      return false;
    }
    options.dims[name] = n;
  }
  return true;
}

/// Imports the model at `path` and runs it on the reference interpreter.
/// Inputs the model does not take (a reference file's token_type_ids) are
/// noted and ignored.
static llvm::Expected<std::map<std::string, Tensor>>
interpret(StringRef path, const mlir::tfx::ImportOptions &options,
          std::map<std::string, Tensor> inputs, bool printTime) {
  mlir::MLIRContext ctx;
  mlir::DialectRegistry registry;
  mlir::tfx::registerTfxDialects(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &ctx);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::tfx::importModel(path, ctx, options);
  if (!module || failed(mlir::verify(*module)))
    return createStringError("could not import '%s'", path.str().c_str());

  auto entry = mlir::tfx::findEntryFunction(*module);
  if (!entry)
    return entry.takeError();
  std::vector<std::string> names = mlir::tfx::inputNames(*entry);
  for (auto it = inputs.begin(); it != inputs.end();) {
    if (is_contained(names, it->first)) {
      ++it;
      continue;
    }
    errs() << "tfx-run: note: the model takes no input '" << it->first
           << "'; ignoring it\n";
    it = inputs.erase(it);
  }

  auto start = std::chrono::steady_clock::now();
  auto outputs = mlir::tfx::runFunction(*module, inputs);
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (outputs && printTime)
    outs() << "time " << format("%.1f", ms) << " ms\n";
  return outputs;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // libLLVM registers a hidden --threads of its own, so ours is taken out
  // of the command line before LLVM parses it.
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    StringRef arg = argv[i];
    StringRef value;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 >= argc)
        return fail("--threads needs a value");
      value = argv[++i];
    } else if (arg.consume_front("--threads=") || arg.consume_front("-threads=")) {
      value = arg;
    } else {
      args.push_back(argv[i]);
      continue;
    }
    int threads;
    if (value.getAsInteger(10, threads) || threads < 0)
      return fail("--threads needs a non-negative integer, got '" + value + "'");
    mlir::tfx::setCpuThreads(threads);
  }
  argc = (int)args.size();
  argv = args.data();

  cl::HideUnrelatedOptions({&category, &mlir::tfx::cpuBackendOptions(),
                           &mlir::tfx::generateOptions()});
  cl::AddExtraVersionPrinter(
      [](raw_ostream &os) { os << "tfx-run " TFX_VERSION "\n"; });
  cl::ParseCommandLineOptions(
      argc, argv, "tfx-run: run a model on the reference interpreter\n");

  if (backend != "interp" && backend != "cpu" && backend != "cuda")
    return fail("unknown --backend '" + backend + "' (supported: interp, cpu, cuda)");
  mlir::tfx::setCudaBackend(backend == "cuda");
  mlir::tfx::ImportOptions options;
  options.raise = !noRaise;
  if (!parseDims(options))
    return 1;

  if (!perplexityPath.empty()) {
    // Code generation may parse LLVM options, which resets ours: keep them.
    std::string model = modelPath, compare = comparePath,
                tokens = perplexityPath, engine = backend;
    int64_t rows = evalRows;
    auto run = [&](StringRef path, const mlir::tfx::ImportOptions &opts,
                   std::map<std::string, Tensor> in)
        -> llvm::Expected<std::map<std::string, Tensor>> {
      if (engine == "cpu" || engine == "cuda")
        return mlir::tfx::runOnCpu(path, opts, std::move(in), nulls(), errs());
      return interpret(path, opts, std::move(in), /*printTime=*/false);
    };
    if (Error err = mlir::tfx::evaluatePerplexity(model, compare, tokens, rows,
                                                  options, run, outs()))
      return fail(toString(std::move(err)));
    return 0;
  }
  if (mlir::tfx::generationRequested()) {
    if (!inputsPath.empty())
      return fail("--generate and --serve-bench take no --inputs");
    if (backend.getNumOccurrences() && backend != "cpu")
      return fail("generation runs compiled code through libtfxrt: use "
                  "--backend cpu (the default for --generate)");
    return mlir::tfx::runGeneration(modelPath, options);
  }
  if (inputsPath.empty())
    return fail("--inputs IN.safetensors is required (or --perplexity, "
                "--generate, --serve-bench)");

  // Inputs first: their shapes fix the import.
  auto inputsFile = mlir::tfx::SafeTensorsFile::open(inputsPath);
  if (!inputsFile)
    return fail(toString(inputsFile.takeError()));
  std::map<std::string, Tensor> inputs;
  for (const auto &[name, info] : (*inputsFile)->tensors()) {
    if (!StringRef(name).starts_with(kInputPrefix))
      continue;
    auto tensor = (*inputsFile)->read(name);
    if (!tensor)
      return fail(toString(tensor.takeError()));
    std::string inputName = name.substr(kInputPrefix.size());
    options.inputShapes[inputName] = tensor->shape;
    inputs[inputName] = std::move(*tensor);
  }
  if (inputs.empty())
    return fail("'" + inputsPath + "' holds no input.<name> tensors");

  llvm::Expected<std::map<std::string, Tensor>> outputs =
      std::map<std::string, Tensor>();
  if (backend == "cpu" || backend == "cuda") {
    // Code generation may parse LLVM options, which resets ours: keep them.
    std::string check = checkPath, output = outputPath;
    double rtol = relTol, atol = absTol;
    bool print = printAll;
    auto start = std::chrono::steady_clock::now();
    outputs = mlir::tfx::runOnCpu(modelPath, options, inputs, outs(), errs());
    checkPath = check;
    outputPath = output;
    relTol = rtol;
    absTol = atol;
    printAll = print;
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (!outputs)
      return fail(toString(outputs.takeError()));
    outs() << "time " << format("%.1f", ms) << " ms (compile and run)\n";
  } else {
    outputs = interpret(modelPath, options, std::move(inputs), /*printTime=*/true);
    if (!outputs)
      return fail(toString(outputs.takeError()));
  }

  std::map<std::string, Tensor> named;
  for (auto &[name, tensor] : *outputs)
    named[(kOutputPrefix + name).str()] = std::move(tensor);

  if (!outputPath.empty())
    if (Error err = mlir::tfx::writeSafeTensors(outputPath, named))
      return fail(toString(std::move(err)));

  if (printAll || (outputPath.empty() && checkPath.empty()))
    for (const auto &[name, tensor] : named) {
      outs() << name << ": " << mlir::tfx::dtypeName(tensor.dtype) << " "
             << tensor.shapeString() << " ";
      printValues(outs(), tensor, printAll ? tensor.numElements() : 8);
      outs() << "\n";
    }

  if (checkPath.empty())
    return 0;
  auto refFile = mlir::tfx::SafeTensorsFile::open(checkPath);
  if (!refFile)
    return fail(toString(refFile.takeError()));
  bool pass = true, any = false;
  for (const auto &[name, info] : (*refFile)->tensors()) {
    if (!StringRef(name).starts_with(kOutputPrefix))
      continue;
    any = true;
    auto it = named.find(name);
    if (it == named.end()) {
      outs() << name << ": missing from the model's outputs FAIL\n";
      pass = false;
      continue;
    }
    auto expected = (*refFile)->read(name);
    if (!expected)
      return fail(toString(expected.takeError()));
    pass &= checkOutput(name, it->second, *expected);
  }
  if (!any)
    return fail("'" + checkPath + "' holds no output.<name> tensors");
  for (const auto &[name, tensor] : named)
    if (!(*refFile)->find(name))
      outs() << name << ": not in the reference (unchecked)\n";
  return pass ? 0 : 1;
}
