//===- Generate.cpp - tfx-run --generate and --serve-bench ----------------===//
//
// Text generation through libtfxrt's tfx_generate and its batching
// scheduler. MODEL is a decoder artifact compiled with `tfx-compile
// --decoder`, or a model that is compiled so in process. Prompts are token
// ids (a file, one prompt per line) or text encoded with the model folder's
// tokenizer.json.
//
//===----------------------------------------------------------------------===//

#include "Generate.h"
#include "CpuBackend.h"

#include "tfx/Support/Tokenizer.h"
#include "tfx/runtime.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <memory>
#include <optional>

using namespace llvm;

namespace mlir::tfx {

cl::OptionCategory &generateOptions() {
  static cl::OptionCategory category("tfx-run generation options");
  return category;
}

static cl::opt<bool> generate("generate",
                              cl::desc("Generate text with a decoder (no --inputs)"),
                              cl::cat(generateOptions()));
static cl::opt<int> serveBench(
    "serve-bench",
    cl::desc("Replay N requests of varied lengths one by one and with "
             "continuous batching; print throughput and latency"),
    cl::value_desc("N"), cl::init(0), cl::cat(generateOptions()));
static cl::opt<std::string>
    promptIds("prompt-ids",
              cl::desc("Prompts as token ids, one prompt per line"),
              cl::value_desc("FILE"), cl::cat(generateOptions()));
static cl::opt<std::string>
    promptText("prompt", cl::desc("A prompt as text (needs a tokenizer.json)"),
               cl::cat(generateOptions()));
static cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("tokenizer.json (default: the model folder's)"),
                  cl::cat(generateOptions()));
static cl::opt<std::string> outputIds("output-ids",
                                      cl::desc("Write the new tokens' ids, one "
                                               "line per prompt"),
                                      cl::value_desc("FILE"),
                                      cl::cat(generateOptions()));
static cl::opt<int> maxNewTokens("max-new-tokens", cl::desc("Tokens to generate (64)"),
                                 cl::init(64), cl::cat(generateOptions()));
static cl::opt<float> temperature("temperature",
                                  cl::desc("Sampling temperature (0: greedy)"),
                                  cl::init(0.0f), cl::cat(generateOptions()));
static cl::opt<int> topK("top-k", cl::desc("Top-k filter (0: off)"), cl::init(0),
                         cl::cat(generateOptions()));
static cl::opt<float> topP("top-p", cl::desc("Nucleus filter (1: off)"),
                           cl::init(1.0f), cl::cat(generateOptions()));
static cl::opt<float> repetitionPenalty("repetition-penalty",
                                        cl::desc("Repetition penalty (1: off)"),
                                        cl::init(1.0f), cl::cat(generateOptions()));
static cl::opt<uint64_t> seed("seed", cl::desc("Sampling seed"), cl::init(0),
                              cl::cat(generateOptions()));
static cl::list<int64_t> stopTokens("stop", cl::desc("Stop token ids"),
                                    cl::CommaSeparated, cl::cat(generateOptions()));
static cl::opt<std::string>
    draftPath("draft",
              cl::desc("Draft decoder for speculative decoding (artifact or "
                       "model)"),
              cl::cat(generateOptions()));
static cl::opt<int> draftLayers(
    "draft-layers",
    cl::desc("Use MODEL's first N layers as the draft (compiled in process)"),
    cl::init(0), cl::cat(generateOptions()));
static cl::opt<int> draftTokens("draft-tokens",
                                cl::desc("Tokens the draft proposes per round (4)"),
                                cl::init(4), cl::cat(generateOptions()));
static cl::opt<int> maxBatch("max-batch",
                             cl::desc("Sequences decoded together by --serve-bench "
                                      "(default: the model's largest decode batch, "
                                      "4 when compiled here)"),
                             cl::init(0), cl::cat(generateOptions()));
static cl::opt<int> prefillChunk("prefill-tokens",
                                 cl::desc("Prefill chunk when compiled here (16)"),
                                 cl::init(16), cl::cat(generateOptions()));
static cl::opt<int> contextSize("context",
                                cl::desc("Tokens per sequence when compiled here "
                                         "(default: the position table, else 1024)"),
                                cl::init(0), cl::cat(generateOptions()));
static cl::opt<bool> quiet("quiet", cl::desc("Print no token lines"),
                           cl::cat(generateOptions()));

bool generationRequested() { return generate || serveBench > 0; }

namespace {
struct ModelCloser {
  void operator()(tfx_model *m) const { tfx_model_close(m); }
};
struct ContextCloser {
  void operator()(tfx_context *c) const { tfx_context_destroy(c); }
};
struct SchedulerCloser {
  void operator()(tfx_scheduler *s) const { tfx_scheduler_destroy(s); }
};
using ModelPtr = std::unique_ptr<tfx_model, ModelCloser>;

Error statusError(tfx_status *status) {
  if (!status)
    return Error::success();
  std::string message = tfx_status_message(status);
  tfx_status_free(status);
  return createStringError(inconvertibleErrorCode(), "%s", message.c_str());
}

/// One prompt per non-empty line; ids separated by spaces or commas.
Expected<std::vector<std::vector<int64_t>>> readPromptIds(StringRef path) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return createStringError(buffer.getError(), "cannot read '%s': %s",
                             path.str().c_str(), buffer.getError().message().c_str());
  std::vector<std::vector<int64_t>> prompts;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (auto [number, line] : enumerate(lines)) {
    SmallVector<StringRef> fields;
    SplitString(line, fields, " ,\t\r");
    if (fields.empty())
      continue;
    std::vector<int64_t> ids;
    for (StringRef field : fields) {
      int64_t id;
      if (field.getAsInteger(10, id) || id < 0)
        return createStringError(inconvertibleErrorCode(),
                                 "%s:%zu: '%s' is not a token id",
                                 path.str().c_str(), number + 1,
                                 field.str().c_str());
      ids.push_back(id);
    }
    prompts.push_back(std::move(ids));
  }
  if (prompts.empty())
    return createStringError(inconvertibleErrorCode(), "'%s' holds no prompt",
                             path.str().c_str());
  return prompts;
}

std::optional<Tokenizer> loadTokenizer(StringRef modelPath, bool required,
                                       std::string &error) {
  SmallString<256> path(tokenizerPath);
  if (path.empty()) {
    path = sys::fs::is_directory(modelPath) ? modelPath : sys::path::parent_path(modelPath);
    sys::path::append(path, "tokenizer.json");
    if (!sys::fs::exists(path)) {
      if (required)
        error = "--prompt needs a tokenizer: no " + path.str().str() +
                " (pass --tokenizer)";
      return std::nullopt;
    }
  }
  auto tokenizer = Tokenizer::open(path);
  if (!tokenizer) {
    error = toString(tokenizer.takeError());
    return std::nullopt;
  }
  return std::move(*tokenizer);
}

struct Session {
  ModelPtr model, draft;
  std::unique_ptr<tfx_context, ContextCloser> context;
  SmallString<128> modelTemp, draftTemp;
  ~Session() {
    model.reset();
    draft.reset();
    for (auto *dir : {&modelTemp, &draftTemp})
      if (!dir->empty())
        sys::fs::remove_directories(*dir);
  }
};

Expected<ModelPtr> openModel(StringRef path, const ImportOptions &import,
                             const DecoderStepOptions &steps,
                             SmallString<128> &temp) {
  auto artifact = artifactFor(path, import, &steps, temp);
  if (!artifact)
    return artifact.takeError();
  tfx_model *model = nullptr;
  if (Error err = statusError(tfx_model_open(artifact->c_str(), &model)))
    return err;
  return ModelPtr(model);
}

void fillOptions(tfx_generate_options &o) {
  tfx_generate_options_init(&o);
  o.max_new_tokens = maxNewTokens;
  o.temperature = temperature;
  o.top_k = topK;
  o.top_p = topP;
  o.repetition_penalty = repetitionPenalty;
  o.seed = seed;
  if (!stopTokens.empty()) {
    o.stop_tokens = &stopTokens.front();
    o.num_stop_tokens = (int32_t)stopTokens.size();
  }
  o.draft_tokens = draftTokens;
}

const char *finishName(int32_t reason) {
  switch (reason) {
  case TFX_FINISH_STOP:
    return "stop token";
  case TFX_FINISH_CALLBACK:
    return "callback";
  case TFX_FINISH_CONTEXT:
    return "context full";
  default:
    return "length";
  }
}

std::string joinIds(ArrayRef<int64_t> ids) {
  std::string text;
  for (auto [n, id] : enumerate(ids))
    text += (n ? " " : "") + std::to_string(id);
  return text;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = (size_t)std::min<double>(values.size() - 1,
                                          p / 100.0 * (double)(values.size() - 1) + 0.5);
  return values[index];
}

double mean(const std::vector<double> &values) {
  double sum = 0;
  for (double v : values)
    sum += v;
  return values.empty() ? 0 : sum / (double)values.size();
}

/// A generation that streams its text when a tokenizer is present.
struct Stream {
  const Tokenizer *tokenizer = nullptr;
  std::vector<int64_t> ids;
  size_t printed = 0;
  static int32_t onToken(void *user, int64_t token) {
    auto *s = static_cast<Stream *>(user);
    s->ids.push_back(token);
    if (!s->tokenizer)
      return 0;
    // Print the text as far as it decodes (a byte-level token may end
    // inside a UTF-8 character).
    auto text = s->tokenizer->decode(s->ids);
    if (text && text->size() > s->printed) {
      outs() << StringRef(*text).drop_front(s->printed);
      outs().flush();
      s->printed = text->size();
    }
    return 0;
  }
};

int fail(const Twine &message) {
  errs() << "tfx-run: " << message << "\n";
  return 1;
}

int runPrompts(Session &session, const std::vector<std::vector<int64_t>> &prompts,
               const Tokenizer *tokenizer) {
  std::string outputs;
  for (auto [index, prompt] : enumerate(prompts)) {
    tfx_generate_options options;
    fillOptions(options);
    std::vector<int64_t> tokens(std::max(1, (int)maxNewTokens));
    int32_t count = 0;
    tfx_generate_stats plain{}, spec{};
    Stream stream;
    stream.tokenizer = !quiet ? tokenizer : nullptr;
    options.on_token = Stream::onToken;
    options.user_data = &stream;
    if (tokenizer && !quiet) {
      auto text = tokenizer->decode(prompt);
      outs() << "prompt: " << (text ? *text : std::string("?")) << "\n"
             << "output: ";
      if (!text)
        consumeError(text.takeError());
    }
    if (Error err = statusError(tfx_generate(
            session.model.get(), session.context.get(), prompt.data(),
            (int32_t)prompt.size(), &options, tokens.data(), (int32_t)tokens.size(),
            &count, &plain)))
      return fail("prompt " + Twine(index + 1) + ": " + toString(std::move(err)));
    if (tokenizer && !quiet)
      outs() << "\n";
    std::vector<int64_t> result(tokens.begin(), tokens.begin() + count);
    if (!quiet)
      outs() << "tokens: " << joinIds(result) << "\n";
    double seconds = plain.total_seconds - plain.prefill_seconds;
    outs() << "prompt " << plain.prompt_tokens << " tokens, " << plain.new_tokens
           << " new (" << finishName(plain.finish_reason) << "); first token "
           << format("%.1f", plain.prefill_seconds * 1e3) << " ms, then "
           << format("%.1f", plain.new_tokens > 1 ? (plain.new_tokens - 1) / seconds : 0.0)
           << " tokens/s; " << plain.model_calls << " model calls\n";

    if (session.draft) {
      options.draft = session.draft.get();
      options.on_token = nullptr;
      std::vector<int64_t> specTokens(tokens.size());
      int32_t specCount = 0;
      if (Error err = statusError(tfx_generate(
              session.model.get(), session.context.get(), prompt.data(),
              (int32_t)prompt.size(), &options, specTokens.data(),
              (int32_t)specTokens.size(), &specCount, &spec)))
        return fail("prompt " + Twine(index + 1) + " (speculative): " +
                    toString(std::move(err)));
      bool same = specCount == count &&
                  std::equal(tokens.begin(), tokens.begin() + count, specTokens.begin());
      double specDecode = spec.total_seconds - spec.prefill_seconds;
      outs() << "speculative: " << spec.draft_accepted << "/" << spec.draft_proposed
             << " draft tokens accepted ("
             << format("%.1f", spec.draft_proposed ? 100.0 * spec.draft_accepted /
                                                         spec.draft_proposed
                                                   : 0.0)
             << "%), " << spec.model_calls << " model calls and " << spec.draft_calls
             << " draft calls for " << spec.new_tokens << " tokens; "
             << format("%.1f", spec.new_tokens > 1 ? (spec.new_tokens - 1) / specDecode : 0.0)
             << " tokens/s, speedup "
             << format("%.2f", specDecode > 0 ? seconds / specDecode * (spec.new_tokens - 1) /
                                                    std::max(1, plain.new_tokens - 1)
                                              : 0.0)
             << "x over plain decoding; output "
             << (same ? "identical to" : "differs from") << " plain decoding\n";
      if (!same && !quiet)
        outs() << "speculative tokens: "
               << joinIds(ArrayRef<int64_t>(specTokens.data(), specCount)) << "\n";
    }
    outputs += joinIds(result) + "\n";
  }
  if (!outputIds.empty()) {
    std::error_code ec;
    raw_fd_ostream os(outputIds, ec);
    if (ec)
      return fail("cannot write '" + outputIds + "': " + ec.message());
    os << outputs;
  }
  return 0;
}

/// N requests with prompts of 8..(8+3*span) tokens and 16..(16+3*span) new
/// tokens in a fixed pseudo-random order, drawn from the given prompts (or
/// token ids 1..vocab-1 when there are none).
struct BenchRequest {
  std::vector<int64_t> prompt;
  int32_t newTokens;
};

std::vector<BenchRequest> benchRequests(int n, int32_t vocab, int32_t capacity,
                                        const std::vector<std::vector<int64_t>> &prompts) {
  std::vector<BenchRequest> requests;
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(state >> 33);
  };
  int32_t span = std::max(1, std::min(16, capacity / 8));
  for (int i = 0; i < n; ++i) {
    BenchRequest r;
    int32_t length = 8 + (int32_t)(next() % 4) * span;
    r.newTokens = std::min<int32_t>(maxNewTokens, 16 + (int32_t)(next() % 4) * span);
    length = std::max(1, std::min(length, capacity - r.newTokens));
    for (int32_t t = 0; t < length; ++t) {
      if (!prompts.empty()) {
        const std::vector<int64_t> &source = prompts[i % prompts.size()];
        r.prompt.push_back(source[t % source.size()]);
      } else {
        r.prompt.push_back(1 + next() % (uint32_t)std::max(1, vocab - 1));
      }
    }
    requests.push_back(std::move(r));
  }
  return requests;
}

int runServeBench(Session &session, const std::vector<std::vector<int64_t>> &prompts) {
  tfx_scheduler *raw = nullptr;
  if (Error err = statusError(tfx_scheduler_create(
          session.model.get(), session.context.get(), maxBatch, &raw)))
    return fail(toString(std::move(err)));
  std::unique_ptr<tfx_scheduler, SchedulerCloser> scheduler(raw);
  // The model's geometry, from its step entries' signatures.
  int32_t vocab = 2, capacity = 1, largest = 1, fewest = INT32_MAX;
  for (int pass = 0; pass < 2; ++pass)
    for (int32_t k = 0, n = tfx_model_num_entries(session.model.get()); k < n; ++k) {
      const tfx_artifact_entry *e = tfx_model_entry(session.model.get(), k);
      if (e->num_inputs != 5 || e->num_outputs != 3 || e->inputs[3].rank != 4)
        continue;
      int32_t tokens = (int32_t)e->inputs[0].shape[1];
      vocab = (int32_t)e->outputs[0].shape[2];
      capacity = (int32_t)(e->inputs[2].shape[1] * e->inputs[3].shape[3]);
      if (pass == 0)
        fewest = std::min(fewest, tokens);
      else if (tokens == fewest)
        largest = std::max(largest, (int32_t)e->inputs[0].shape[0]);
    }
  std::vector<BenchRequest> requests = benchRequests(serveBench, vocab, capacity, prompts);
  int64_t totalNew = 0;

  // One by one: request i waits for every request before it.
  std::vector<double> serialLatency;
  std::vector<std::vector<int64_t>> serialOut;
  double serialStart = 0, clock = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    tfx_generate_options options;
    fillOptions(options);
    options.max_new_tokens = requests[i].newTokens;
    std::vector<int64_t> tokens(requests[i].newTokens);
    int32_t count = 0;
    tfx_generate_stats stats{};
    if (Error err = statusError(tfx_generate(
            session.model.get(), session.context.get(), requests[i].prompt.data(),
            (int32_t)requests[i].prompt.size(), &options, tokens.data(),
            (int32_t)tokens.size(), &count, &stats)))
      return fail("request " + Twine(i) + ": " + toString(std::move(err)));
    clock += stats.total_seconds;
    serialLatency.push_back(clock - serialStart);
    serialOut.emplace_back(tokens.begin(), tokens.begin() + count);
    totalNew += count;
  }
  double serialSeconds = clock;

  // Continuous batching: all requests queued at once.
  std::vector<int64_t> ids;
  for (const BenchRequest &r : requests) {
    tfx_generate_options options;
    fillOptions(options);
    options.max_new_tokens = r.newTokens;
    int64_t id;
    if (Error err = statusError(tfx_scheduler_submit(
            scheduler.get(), r.prompt.data(), (int32_t)r.prompt.size(), &options, &id)))
      return fail(toString(std::move(err)));
    ids.push_back(id);
  }
  int64_t batchedNew = 0;
  auto start = std::chrono::steady_clock::now();
  if (Error err = statusError(tfx_scheduler_run(scheduler.get())))
    return fail(toString(std::move(err)));
  double batchedSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> batchedLatency;
  bool same = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t *tokens;
    int32_t count, finished;
    tfx_generate_stats stats{};
    if (Error err = statusError(tfx_scheduler_result(scheduler.get(), ids[i], &tokens,
                                                     &count, &finished, &stats)))
      return fail(toString(std::move(err)));
    batchedLatency.push_back(stats.total_seconds);
    batchedNew += count;
    same &= std::vector<int64_t>(tokens, tokens + count) == serialOut[i];
  }

  int64_t promptTokens = 0;
  for (const BenchRequest &r : requests)
    promptTokens += (int64_t)r.prompt.size();
  outs() << "serve-bench: " << requests.size() << " requests, " << promptTokens
         << " prompt tokens, " << totalNew << " new tokens, batch up to "
         << (maxBatch ? (int)maxBatch : largest) << " ("
         << tfx_context_num_threads(session.context.get()) << " threads)\n";
  outs() << format("%-12s %12s %12s %12s %12s %10s\n", "mode", "tokens/s",
                   "mean lat ms", "p50 lat ms", "p90 lat ms", "total s");
  auto row = [&](const char *mode, double seconds, int64_t tokens,
                 const std::vector<double> &latency) {
    outs() << format("%-12s %12.1f %12.1f %12.1f %12.1f %10.3f\n", mode,
                     (double)tokens / seconds, mean(latency) * 1e3,
                     percentile(latency, 50) * 1e3, percentile(latency, 90) * 1e3,
                     seconds);
  };
  row("one-by-one", serialSeconds, totalNew, serialLatency);
  row("batched", batchedSeconds, batchedNew, batchedLatency);
  outs() << "throughput ratio batched/one-by-one: "
         << format("%.2f", ((double)batchedNew / batchedSeconds) /
                               ((double)totalNew / serialSeconds))
         << "x; outputs " << (same ? "identical" : "differ") << "\n";
  return 0;
}
} // namespace

int runGeneration(StringRef modelPath, const ImportOptions &importOptions) {
  if (maxNewTokens < 0)
    return fail("--max-new-tokens must be >= 0");
  if (!promptIds.empty() && !promptText.empty())
    return fail("give --prompt-ids or --prompt, not both");
  if (!draftPath.empty() && draftLayers > 0)
    return fail("give --draft or --draft-layers, not both");
  bool wantDraft = !draftPath.empty() || draftLayers > 0;
  if (wantDraft && serveBench > 0)
    return fail("--serve-bench does not use a draft model");

  std::string error;
  std::optional<Tokenizer> tokenizer =
      loadTokenizer(modelPath, !promptText.empty(), error);
  if (!error.empty())
    return fail(error);
  std::vector<std::vector<int64_t>> prompts;
  if (!promptIds.empty()) {
    auto read = readPromptIds(promptIds);
    if (!read)
      return fail(toString(read.takeError()));
    prompts = std::move(*read);
  } else if (!promptText.empty()) {
    prompts.push_back(tokenizer->encode(promptText));
    if (prompts.back().empty())
      return fail("the prompt encodes to no tokens");
  } else if (generate) {
    return fail("--generate needs --prompt-ids FILE or --prompt TEXT");
  }

  Session session;
  tfx_context *context = nullptr;
  if (Error err = statusError(tfx_context_create(cpuThreads(), &context)))
    return fail(toString(std::move(err)));
  session.context.reset(context);

  DecoderStepOptions steps;
  steps.prefillTokens = prefillChunk;
  steps.context = contextSize;
  int batch = maxBatch > 0 ? (int)maxBatch : 4;
  steps.decodeBatches = {1};
  if (serveBench > 0)
    for (int b = 2; b <= batch; b *= 2)
      steps.decodeBatches.push_back(b);
  if (serveBench > 0 && batch > 1)
    steps.decodeBatches.push_back(batch);
  if (wantDraft)
    steps.verifyTokens = draftTokens + 1;
  if (!modelPath.ends_with(".so"))
    errs() << "tfx-run: compiling " << modelPath << " for generation\n";
  auto model = openModel(modelPath, importOptions, steps, session.modelTemp);
  if (!model)
    return fail(toString(model.takeError()));
  session.model = std::move(*model);
  if (wantDraft) {
    ImportOptions draftImport = importOptions;
    draftImport.keepLayers = draftLayers;
    DecoderStepOptions draftSteps = steps;
    draftSteps.verifyTokens = 0;
    StringRef path = draftPath.empty() ? modelPath : StringRef(draftPath);
    if (draftLayers > 0 && path.ends_with(".so"))
      return fail("--draft-layers needs MODEL as a model, not an artifact");
    auto draft = openModel(path, draftImport, draftSteps, session.draftTemp);
    if (!draft)
      return fail("draft: " + toString(draft.takeError()));
    session.draft = std::move(*draft);
  }
  if (serveBench > 0)
    return runServeBench(session, prompts);
  return runPrompts(session, prompts, tokenizer ? &*tokenizer : nullptr);
}

} // namespace mlir::tfx
