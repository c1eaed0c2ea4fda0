//===- HFImporterTest.cpp - Hugging Face folders built in C++ -------------===//
//
// Tiny models written with writeSafeTensors, imported, and run on the
// interpreter: the signature rule for attention_mask, f16/bf16 and sharded
// weights giving the same result as f32, per-layer windows, prefixes, and
// the messages of broken configs.
//
//===----------------------------------------------------------------------===//

#include "tfx/Dialect/Tfx.h"
#include "tfx/Frontend/Frontend.h"
#include "tfx/Interpreter/Interpreter.h"
#include "tfx/Support/SafeTensors.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <functional>

using namespace mlir;
using namespace mlir::tfx;

namespace {

using Weights = std::map<std::string, Tensor>;

/// Deterministic values k/64, |k| <= 64: exact in f16 and bf16, so a model
/// stored in either must compute exactly what its f32 copy computes.
Tensor values(std::vector<int64_t> shape, unsigned seed, float offset = 0.0f) {
  Tensor t = Tensor::floats(std::move(shape));
  uint32_t state = seed * 2654435761u + 12345u;
  for (float &v : t.f) {
    state = state * 1664525u + 1013904223u;
    v = offset + (float)((int)(state >> 24) % 65 - 32) / 64.0f;
  }
  return t;
}

constexpr int64_t kVocab = 11, kHidden = 8, kHeads = 2, kKvHeads = 1,
                  kInter = 12, kHeadDim = kHidden / kHeads;

Weights llamaWeights(int64_t layers, bool withLmHead) {
  Weights w;
  unsigned seed = 1;
  w["model.embed_tokens.weight"] = values({kVocab, kHidden}, seed++);
  for (int64_t i = 0; i < layers; ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    w[p + "input_layernorm.weight"] = values({kHidden}, seed++, 1.0f);
    w[p + "post_attention_layernorm.weight"] = values({kHidden}, seed++, 1.0f);
    w[p + "self_attn.q_proj.weight"] = values({kHeads * kHeadDim, kHidden}, seed++);
    w[p + "self_attn.k_proj.weight"] = values({kKvHeads * kHeadDim, kHidden}, seed++);
    w[p + "self_attn.v_proj.weight"] = values({kKvHeads * kHeadDim, kHidden}, seed++);
    w[p + "self_attn.o_proj.weight"] = values({kHidden, kHeads * kHeadDim}, seed++);
    w[p + "mlp.gate_proj.weight"] = values({kInter, kHidden}, seed++);
    w[p + "mlp.up_proj.weight"] = values({kInter, kHidden}, seed++);
    w[p + "mlp.down_proj.weight"] = values({kHidden, kInter}, seed++);
  }
  w["model.norm.weight"] = values({kHidden}, seed++, 1.0f);
  if (withLmHead)
    w["lm_head.weight"] = values({kVocab, kHidden}, seed++);
  return w;
}

llvm::json::Object llamaConfig(int64_t layers) {
  return llvm::json::Object{{"model_type", "llama"},
                            {"vocab_size", kVocab},
                            {"hidden_size", kHidden},
                            {"num_hidden_layers", layers},
                            {"num_attention_heads", kHeads},
                            {"num_key_value_heads", kKvHeads},
                            {"intermediate_size", kInter},
                            {"rms_norm_eps", 1e-6},
                            {"rope_theta", 10000.0},
                            {"tie_word_embeddings", true}};
}

class HFImporterTest : public ::testing::Test {
protected:
  HFImporterTest() {
    DialectRegistry registry;
    registerTfxDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// A fresh folder holding config.json and, unless `weights` is empty,
  /// model.safetensors with every tensor stored as `dtype`.
  std::string makeFolder(const llvm::json::Object &config, Weights weights,
                         DType dtype = DType::F32) {
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("tfx-hf-test", dir));
    writeConfig(std::string(dir), config);
    if (!weights.empty()) {
      for (auto &[name, t] : weights)
        t.dtype = dtype;
      EXPECT_FALSE((bool)writeSafeTensors(file(std::string(dir), "model.safetensors"),
                                          weights));
    }
    return std::string(dir);
  }

  static void writeConfig(const std::string &dir,
                          const llvm::json::Object &config) {
    std::error_code ec;
    llvm::raw_fd_ostream os(file(dir, "config.json"), ec);
    ASSERT_FALSE(ec);
    os << llvm::json::Value(llvm::json::Object(config));
  }

  static std::string file(const std::string &dir, llvm::StringRef name) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  /// Imports `dir`, collecting diagnostics (with their locations) into
  /// `errors`.
  OwningOpRef<ModuleOp> import(const std::string &dir,
                               const ImportOptions &options = {}) {
    errors.clear();
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      llvm::raw_string_ostream os(errors);
      os << d.getLocation() << ": " << d.str() << "\n";
      return success();
    });
    return importHuggingFace(dir, ctx, options);
  }

  /// Runs an imported causal LM (batch 1) on fixed ids; returns its logits.
  std::vector<float> logitsOf(ModuleOp module) {
    auto main = cast<func::FuncOp>(module.lookupSymbol("main"));
    int64_t seq = cast<RankedTensorType>(main.getArgumentTypes()[0]).getDimSize(1);
    Tensor ids = Tensor::ints({1, seq});
    for (int64_t k = 0; k < seq; ++k)
      ids.i[k] = (3 * k + 1) % kVocab;
    auto outputs = runFunction(
        module, {{"input_ids", ids}, {"attention_mask", Tensor::ints({1, seq}, 1)}});
    if (!outputs) {
      ADD_FAILURE() << llvm::toString(outputs.takeError());
      return {};
    }
    EXPECT_EQ(outputs->at("logits").shape,
              (std::vector<int64_t>{1, seq, kVocab}));
    return outputs->at("logits").f;
  }

  MLIRContext ctx;
  std::string errors;
};

using NamedShape = std::pair<const char *, std::vector<int64_t>>;

ImportOptions shapes(std::initializer_list<NamedShape> s) {
  ImportOptions options;
  for (const auto &[name, shape] : s)
    options.inputShapes[name] = shape;
  return options;
}

TEST_F(HFImporterTest, MaskArgumentFollowsTheInputs) {
  std::string dir = makeFolder(llamaConfig(1), llamaWeights(1, false));
  auto withDefaults = import(dir);
  ASSERT_TRUE(withDefaults) << errors;
  auto main = cast<func::FuncOp>(withDefaults->lookupSymbol("main"));
  ASSERT_EQ(main.getNumArguments(), 2u);
  EXPECT_EQ(main.getArgumentTypes()[0],
            RankedTensorType::get({1, 16}, IntegerType::get(&ctx, 64)));
  EXPECT_EQ(main.getArgAttrOfType<StringAttr>(1, kNameAttr).getValue(),
            "attention_mask");
  EXPECT_EQ(main.getResultAttrOfType<StringAttr>(0, kNameAttr).getValue(),
            "logits");
  // Every op is located at its HF module path.
  std::vector<std::string> norms, linears;
  main.walk([&](Operation *op) {
    auto name = dyn_cast<NameLoc>(op->getLoc());
    ASSERT_TRUE(name) << op->getName().getStringRef().str();
    if (isa<RmsNormOp>(op))
      norms.push_back(name.getName().str());
    if (isa<LinearOp>(op))
      linears.push_back(name.getName().str());
    if (isa<EmbeddingOp>(op)) {
      EXPECT_EQ(name.getName().getValue(), "model.embed_tokens");
    }
  });
  EXPECT_EQ(norms, (std::vector<std::string>{"model.layers.0.input_layernorm",
                                             "model.layers.0.post_attention_layernorm",
                                             "model.norm"}));
  const std::string l = "model.layers.0.";
  EXPECT_EQ(linears, (std::vector<std::string>{
                         l + "self_attn.q_proj", l + "self_attn.k_proj",
                         l + "self_attn.v_proj", l + "self_attn.o_proj",
                         l + "mlp.gate_proj", l + "mlp.up_proj",
                         l + "mlp.down_proj", "lm_head"}));
  auto weightsAttr = (*withDefaults)->getAttrOfType<StringAttr>(kWeightsAttr);
  ASSERT_TRUE(weightsAttr);
  EXPECT_TRUE(llvm::sys::path::is_absolute(weightsAttr.getValue()));
  EXPECT_TRUE(weightsAttr.getValue().ends_with("model.safetensors"));

  // An input file with input_ids only: no mask argument, its shape.
  auto idsOnly = import(dir, shapes({{"input_ids", {2, 5}}}));
  ASSERT_TRUE(idsOnly) << errors;
  main = cast<func::FuncOp>(idsOnly->lookupSymbol("main"));
  ASSERT_EQ(main.getNumArguments(), 1u);
  EXPECT_EQ(main.getArgumentTypes()[0],
            RankedTensorType::get({2, 5}, IntegerType::get(&ctx, 64)));
  bool maskedAttention = false;
  idsOnly->walk([&](AttentionOp op) { maskedAttention |= (bool)op.getMask(); });
  EXPECT_FALSE(maskedAttention);

  auto both = import(dir, shapes({{"input_ids", {2, 5}}, {"attention_mask", {2, 5}}}));
  ASSERT_TRUE(both) << errors;
  EXPECT_EQ(cast<func::FuncOp>(both->lookupSymbol("main")).getNumArguments(), 2u);

  EXPECT_FALSE(import(dir, shapes({{"input_ids", {2, 5}}, {"attention_mask", {2, 4}}})));
  EXPECT_NE(errors.find("attention_mask must have the shape of input_ids"),
            std::string::npos)
      << errors;
}

TEST_F(HFImporterTest, HalfAndBFloatWeightsComputeAsF32) {
  Weights weights = llamaWeights(2, false);
  auto f32 = import(makeFolder(llamaConfig(2), weights, DType::F32));
  ASSERT_TRUE(f32) << errors;
  std::vector<float> expected = logitsOf(*f32);
  ASSERT_EQ(expected.size(), (size_t)16 * kVocab);
  for (DType dtype : {DType::F16, DType::BF16}) {
    auto module = import(makeFolder(llamaConfig(2), weights, dtype));
    ASSERT_TRUE(module) << errors;
    module->walk([&](WeightOp op) {
      EXPECT_TRUE(op.getType().getElementType().isF32()) << op.getName().str();
    });
    EXPECT_EQ(logitsOf(*module), expected) << dtypeName(dtype);
  }
}

TEST_F(HFImporterTest, ShardedWeightsMatchOneFile) {
  Weights weights = llamaWeights(2, true);
  auto single = import(makeFolder(llamaConfig(2), weights));
  ASSERT_TRUE(single) << errors;
  std::vector<float> expected = logitsOf(*single);

  std::string dir = makeFolder(llamaConfig(2), {});
  const char *shardNames[2] = {"model-00001-of-00002.safetensors",
                               "model-00002-of-00002.safetensors"};
  Weights shards[2];
  llvm::json::Object map;
  int k = 0;
  for (auto &[name, t] : weights) {
    int shard = k++ % 2;
    shards[shard][name] = t;
    map[name] = shardNames[shard];
  }
  for (int shard : {0, 1})
    ASSERT_FALSE((bool)writeSafeTensors(file(dir, shardNames[shard]), shards[shard]));
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(file(dir, "model.safetensors.index.json"), ec);
    ASSERT_FALSE(ec);
    os << llvm::json::Value(llvm::json::Object{
        {"metadata", llvm::json::Object{}}, {"weight_map", std::move(map)}});
  }
  auto sharded = import(dir);
  ASSERT_TRUE(sharded) << errors;
  EXPECT_TRUE((*sharded)
                  ->getAttrOfType<StringAttr>(kWeightsAttr)
                  .getValue()
                  .ends_with("model.safetensors.index.json"));
  EXPECT_EQ(logitsOf(*sharded), expected);
}

TEST_F(HFImporterTest, UntiedHeadAndRopeTheta) {
  llvm::json::Object config = llamaConfig(1);
  config["tie_word_embeddings"] = false;
  config.erase("rope_theta");
  config["rope_parameters"] =
      llvm::json::Object{{"rope_type", "default"}, {"rope_theta", 5e5}};
  auto module = import(makeFolder(config, llamaWeights(1, true)));
  ASSERT_TRUE(module) << errors;
  bool usesLmHead = false;
  module->walk([&](WeightOp op) { usesLmHead |= op.getName() == "lm_head.weight"; });
  EXPECT_TRUE(usesLmHead);
  int ropes = 0;
  module->walk([&](RopeOp op) {
    ++ropes;
    EXPECT_EQ(op.getTheta().convertToDouble(), 5e5);
    EXPECT_EQ(op.getRotaryDim(), (uint64_t)kHeadDim);
    EXPECT_EQ(op.getLayout(), RopeLayout::half);
  });
  EXPECT_EQ(ropes, 2);

  // Untied without lm_head.weight cannot be built.
  EXPECT_FALSE(import(makeFolder(config, llamaWeights(1, false))));
  EXPECT_NE(errors.find("tie_word_embeddings is false"), std::string::npos)
      << errors;
}

/// Windows of the attention ops, in layer order.
std::vector<int64_t> windowsOf(ModuleOp module) {
  std::vector<int64_t> windows;
  module.walk([&](AttentionOp op) { windows.push_back(op.getWindow()); });
  return windows;
}

TEST_F(HFImporterTest, SlidingWindowsPerFamily) {
  Weights weights = llamaWeights(3, false);
  llvm::json::Object config = llamaConfig(3);
  config["model_type"] = "mistral";
  config["sliding_window"] = 4;
  auto mistral = import(makeFolder(config, weights));
  ASSERT_TRUE(mistral) << errors;
  EXPECT_EQ(windowsOf(*mistral), (std::vector<int64_t>{4, 4, 4}));

  config["sliding_window"] = nullptr;
  auto unwindowed = import(makeFolder(config, weights));
  ASSERT_TRUE(unwindowed) << errors;
  EXPECT_EQ(windowsOf(*unwindowed), (std::vector<int64_t>{0, 0, 0}));

  // Qwen2 keeps sliding_window in every config but uses it only when told,
  // and only from max_window_layers on.
  config["model_type"] = "qwen2";
  config["sliding_window"] = 4;
  config["use_sliding_window"] = false;
  auto qwenOff = import(makeFolder(config, weights));
  ASSERT_TRUE(qwenOff) << errors;
  EXPECT_EQ(windowsOf(*qwenOff), (std::vector<int64_t>{0, 0, 0}));
  config["use_sliding_window"] = true;
  config["max_window_layers"] = 1;
  auto qwenOn = import(makeFolder(config, weights));
  ASSERT_TRUE(qwenOn) << errors;
  EXPECT_EQ(windowsOf(*qwenOn), (std::vector<int64_t>{0, 4, 4}));

  // An explicit layer_types list wins.
  config["model_type"] = "mistral";
  config["layer_types"] = llvm::json::Array{"sliding_attention", "full_attention",
                                            "sliding_attention"};
  auto listed = import(makeFolder(config, weights));
  ASSERT_TRUE(listed) << errors;
  EXPECT_EQ(windowsOf(*listed), (std::vector<int64_t>{4, 0, 4}));
}

TEST_F(HFImporterTest, BrokenConfigsAreNamed) {
  Weights weights = llamaWeights(1, false);
  struct Case {
    std::function<void(llvm::json::Object &)> edit;
    const char *message;
  } cases[] = {
      {[](auto &c) { c.erase("num_attention_heads"); },
       "missing or invalid integer field 'num_attention_heads'"},
      {[](auto &c) { c["model_type"] = "t5"; },
       "unsupported model_type 't5' (supported: bert, distilbert, gpt2, "
       "llama, mistral, qwen2)"},
      {[](auto &c) { c.erase("model_type"); }, "missing field 'model_type'"},
      {[](auto &c) {
         c["rope_scaling"] = llvm::json::Object{{"rope_type", "yarn"}, {"factor", 4.0}};
       },
       "rope_scaling.rope_type 'yarn' is not supported (only 'default')"},
      {[](auto &c) { c["rope_scaling"] = llvm::json::Object{{"type", "linear"}}; },
       "rope_scaling.rope_type 'linear' is not supported"},
      {[](auto &c) { c["hidden_act"] = "swiglu2"; },
       "unsupported activation 'swiglu2'"},
      {[](auto &c) { c["partial_rotary_factor"] = 0.1; },
       "gives no valid rotary size for head_dim 4"},
      {[](auto &c) { c["num_key_value_heads"] = 3; },
       "num_attention_heads 2 is not a multiple of num_key_value_heads 3"},
      {[](auto &c) { c["num_hidden_layers"] = 2; },
       "tensor 'model.layers.1.input_layernorm.weight' not found in"},
      {[](auto &c) {
         c["model_type"] = "mistral";
         c["layer_types"] = llvm::json::Array{"sliding_attention"};
       },
       "layer 0 uses sliding_attention but sliding_window is not set"},
  };
  for (const Case &c : cases) {
    llvm::json::Object config = llamaConfig(1);
    c.edit(config);
    EXPECT_FALSE(import(makeFolder(config, weights))) << c.message;
    EXPECT_NE(errors.find(c.message), std::string::npos)
        << "expected: " << c.message << "\ngot: " << errors;
    EXPECT_TRUE(llvm::StringRef(errors).contains("config.json") ||
                llvm::StringRef(errors).contains("model.safetensors"))
        << "no file named in: " << errors;
  }

  // A folder without weights, and weights of the wrong shape.
  EXPECT_FALSE(import(makeFolder(llamaConfig(1), {})));
  EXPECT_NE(errors.find("no model.safetensors or model.safetensors.index.json"),
            std::string::npos)
      << errors;
  Weights wrong = weights;
  wrong["model.layers.0.self_attn.k_proj.weight"] = values({3, kHidden}, 99);
  EXPECT_FALSE(import(makeFolder(llamaConfig(1), wrong)));
  EXPECT_NE(errors.find("model.layers.0.self_attn"), std::string::npos) << errors;
}

TEST_F(HFImporterTest, EncoderAndGpt2Prefixes) {
  // BERT saved from BertForMaskedLM carries a `bert.` prefix.
  Weights bert;
  unsigned seed = 50;
  const std::string p = "bert.";
  bert[p + "embeddings.word_embeddings.weight"] = values({kVocab, kHidden}, seed++);
  bert[p + "embeddings.position_embeddings.weight"] = values({32, kHidden}, seed++);
  bert[p + "embeddings.LayerNorm.weight"] = values({kHidden}, seed++, 1.0f);
  bert[p + "embeddings.LayerNorm.bias"] = values({kHidden}, seed++);
  std::string l = p + "encoder.layer.0.";
  for (const char *n : {"attention.self.query", "attention.self.key",
                        "attention.self.value", "attention.output.dense"}) {
    bert[l + n + ".weight"] = values({kHidden, kHidden}, seed++);
    bert[l + n + ".bias"] = values({kHidden}, seed++);
  }
  bert[l + "intermediate.dense.weight"] = values({kInter, kHidden}, seed++);
  bert[l + "intermediate.dense.bias"] = values({kInter}, seed++);
  bert[l + "output.dense.weight"] = values({kHidden, kInter}, seed++);
  bert[l + "output.dense.bias"] = values({kHidden}, seed++);
  for (const char *n : {"attention.output.LayerNorm", "output.LayerNorm"}) {
    bert[l + n + ".weight"] = values({kHidden}, seed++, 1.0f);
    bert[l + n + ".bias"] = values({kHidden}, seed++);
  }
  llvm::json::Object bertConfig{{"model_type", "bert"},
                                {"num_hidden_layers", 1},
                                {"num_attention_heads", kHeads},
                                {"max_position_embeddings", 32},
                                {"hidden_act", "gelu"}};
  auto module = import(makeFolder(bertConfig, bert), shapes({{"input_ids", {1, 7}}}));
  ASSERT_TRUE(module) << errors;
  auto main = cast<func::FuncOp>(module->lookupSymbol("main"));
  EXPECT_EQ(main.getResultAttrOfType<StringAttr>(0, kNameAttr).getValue(),
            "last_hidden_state");
  int weights = 0;
  module->walk([&](WeightOp op) {
    ++weights;
    EXPECT_TRUE(op.getName().starts_with("bert.")) << op.getName().str();
  });
  EXPECT_EQ(weights, (int)bert.size());
  module->walk([&](GeluOp op) { EXPECT_EQ(op.getApproximate(), GeluApprox::erf); });
  module->walk([&](AttentionOp op) {
    EXPECT_FALSE(op.getCausal());
    auto name = dyn_cast<NameLoc>(op.getLoc());
    ASSERT_TRUE(name);
    EXPECT_EQ(name.getName().getValue(), "bert.encoder.layer.0.attention.self");
  });

  // Learned positions end at their table.
  EXPECT_FALSE(import(makeFolder(bertConfig, bert), shapes({{"input_ids", {1, 40}}})));
  EXPECT_NE(errors.find("sequence length 40 exceeds max_position_embeddings = 32"),
            std::string::npos)
      << errors;

  // GPT-2 without the `transformer.` prefix: Conv1D weights read transposed,
  // tanh GELU, and the head tied to wte.
  Weights gpt2;
  gpt2["wte.weight"] = values({kVocab, kHidden}, seed++);
  gpt2["wpe.weight"] = values({16, kHidden}, seed++);
  for (const char *n : {"h.0.ln_1", "h.0.ln_2", "ln_f"}) {
    gpt2[std::string(n) + ".weight"] = values({kHidden}, seed++, 1.0f);
    gpt2[std::string(n) + ".bias"] = values({kHidden}, seed++);
  }
  for (auto [n, in, out] : {std::tuple{"h.0.attn.c_attn", kHidden, 3 * kHidden},
                            std::tuple{"h.0.attn.c_proj", kHidden, kHidden},
                            std::tuple{"h.0.mlp.c_fc", kHidden, 4 * kHidden},
                            std::tuple{"h.0.mlp.c_proj", 4 * kHidden, kHidden}}) {
    gpt2[std::string(n) + ".weight"] = values({in, out}, seed++);
    gpt2[std::string(n) + ".bias"] = values({out}, seed++);
  }
  llvm::json::Object gptConfig{{"model_type", "gpt2"},
                               {"n_layer", 1},
                               {"n_head", kHeads},
                               {"n_embd", kHidden},
                               {"n_positions", 16},
                               {"activation_function", "gelu_new"}};
  module = import(makeFolder(gptConfig, gpt2));
  ASSERT_TRUE(module) << errors;
  int transposed = 0, slices = 0;
  module->walk([&](WeightOp op) { transposed += op.getTransposed(); });
  module->walk([&](SliceOp) { ++slices; });
  EXPECT_EQ(transposed, 4);
  EXPECT_EQ(slices, 3);
  module->walk([&](GeluOp op) { EXPECT_EQ(op.getApproximate(), GeluApprox::tanh); });
  module->walk([&](AttentionOp op) { EXPECT_TRUE(op.getCausal()); });
  EXPECT_EQ(logitsOf(*module).size(), (size_t)16 * kVocab);
}

} // namespace
