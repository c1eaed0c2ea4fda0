//===- HFDecoders.cpp - GPT-2, Llama, Mistral and Qwen2 from safetensors --===//
//
// Pre-LN causal decoders producing next-token logits.
//
//===----------------------------------------------------------------------===//

#include "HFModelBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::hf;

namespace {

FailureOr<Value> causalAttention(ModelBuilder &mb, Value q, Value k, Value v,
                                 int64_t heads, int64_t kvHeads,
                                 int64_t headDim, int64_t window,
                                 llvm::StringRef scope) {
  auto op = createInferred<AttentionOp>(
      mb.builder(), mb.loc(scope), q, k, v, mb.attentionMask(), (uint64_t)heads,
      (uint64_t)kvHeads, llvm::APFloat((float)(1.0 / std::sqrt((double)headDim))),
      /*causal=*/true, (uint64_t)window, AttentionKind::softmax);
  if (failed(op))
    return failure();
  return op->getResult();
}

/// The LM head: `lm_head.weight` when the file has one, else the input
/// embedding (tied weights, [vocab, hidden] = [out, in]).
FailureOr<Value> lmHead(ModelBuilder &mb, Value h, llvm::StringRef tiedName) {
  if (mb.hasTensor("lm_head.weight"))
    return mb.linear(h, "lm_head");
  if (!mb.optionalBool("tie_word_embeddings").value_or(true)) {
    mb.configError() << "tie_word_embeddings is false but the weights have no "
                        "'lm_head.weight'";
    return failure();
  }
  FailureOr<Value> w = mb.weight(tiedName);
  if (failed(w))
    return failure();
  auto op = createInferred<LinearOp>(mb.builder(), mb.loc("lm_head"), h, *w,
                                     Value());
  if (failed(op))
    return failure();
  return op->getResult();
}

/// The attention window of each layer (0 = full causal attention), with
/// transformers' rules: an explicit `layer_types` list wins; otherwise Mistral
/// slides every layer whenever `sliding_window` is set, Qwen2 only when
/// `use_sliding_window` is true and only from layer `max_window_layers` on,
/// and Llama has no window.
FailureOr<std::vector<int64_t>> slidingWindows(ModelBuilder &mb,
                                               int64_t layers) {
  std::vector<int64_t> windows(layers, 0);
  llvm::StringRef type = mb.optionalString("model_type").value_or("");
  // 0 stands for "no window" here and in tfx.attention.
  int64_t window = mb.optionalInt("sliding_window").value_or(0);
  if (window < 0) {
    mb.configError() << "config.json: invalid sliding_window " << window;
    return failure();
  }
  // Llama has no window; Qwen2 keeps the field but ignores it unless told.
  if (type == "llama" ||
      (type == "qwen2" && !mb.optionalBool("use_sliding_window").value_or(false)))
    window = 0;
  if (const llvm::json::Array *kinds = mb.config().getArray("layer_types")) {
    if ((int64_t)kinds->size() != layers) {
      mb.configError() << "config.json: layer_types has " << kinds->size()
                       << " entries for " << layers << " layers";
      return failure();
    }
    for (int64_t i = 0; i < layers; ++i) {
      std::optional<llvm::StringRef> kind = (*kinds)[i].getAsString();
      if (kind && *kind == "full_attention")
        continue;
      if (!kind || *kind != "sliding_attention") {
        mb.configError() << "config.json: layer_types[" << i
                         << "] is not 'full_attention' or 'sliding_attention'";
        return failure();
      }
      if (window == 0) {
        mb.configError() << "config.json: layer " << i
                         << " uses sliding_attention but sliding_window is "
                            "not set";
        return failure();
      }
      windows[i] = window;
    }
    return windows;
  }
  int64_t first =
      type == "qwen2" ? mb.optionalInt("max_window_layers").value_or(28) : 0;
  for (int64_t i = std::max<int64_t>(first, 0); i < layers; ++i)
    windows[i] = window;
  return windows;
}

} // namespace

OwningOpRef<ModuleOp> hf::buildGpt2(ModelBuilder &mb, int64_t batch,
                                    int64_t seq, bool withMask) {
  auto layers = mb.intField("n_layer");
  auto heads = mb.intField("n_head");
  auto hidden = mb.intField("n_embd");
  if (failed(layers) || failed(heads) || failed(hidden))
    return nullptr;
  if (*hidden % *heads != 0) {
    mb.configError() << "config.json: n_embd " << *hidden
                     << " is not divisible by n_head " << *heads;
    return nullptr;
  }
  if (mb.optionalBool("scale_attn_by_inverse_layer_idx").value_or(false) ||
      mb.optionalBool("reorder_and_upcast_attn").value_or(false) ||
      !mb.optionalBool("scale_attn_weights").value_or(true)) {
    mb.configError() << "config.json: GPT-2 attention scaling variants "
                        "(scale_attn_by_inverse_layer_idx, "
                        "reorder_and_upcast_attn, scale_attn_weights=false) "
                        "are not supported";
    return nullptr;
  }
  double eps = mb.optionalFloat("layer_norm_epsilon").value_or(1e-5);
  std::string act =
      mb.optionalString("activation_function").value_or("gelu_new").str();
  std::optional<std::string> p = mb.detectPrefix({"transformer.", ""}, "wte.weight");
  if (!p) {
    mb.configError() << "no GPT-2 embeddings found: expected a tensor "
                        "'transformer.wte.weight' or 'wte.weight'";
    return nullptr;
  }
  int64_t headDim = *hidden / *heads;
  mb.beginMain(batch, seq, withMask);
  auto tok = mb.embedding(mb.inputIds(), *p + "wte.weight");
  auto pos = mb.embedding(mb.positions(seq, *p + "wpe"), *p + "wpe.weight");
  if (failed(tok) || failed(pos))
    return nullptr;
  auto h = mb.add(*tok, *pos, *p + "wte");
  if (failed(h))
    return nullptr;
  for (int64_t i = 0, n = mb.layersToBuild(*layers); i < n; ++i) {
    std::string l = *p + "h." + std::to_string(i) + ".";
    auto a = mb.layerNorm(*h, l + "ln_1", eps);
    if (failed(a))
      return nullptr;
    // Conv1D stores [in, out]; c_attn projects to q, k and v side by side.
    auto qkv = mb.linear(*a, l + "attn.c_attn", /*transposed=*/true);
    if (failed(qkv))
      return nullptr;
    auto q = mb.sliceLast(*qkv, 0, *hidden, l + "attn");
    auto k = mb.sliceLast(*qkv, *hidden, *hidden, l + "attn");
    auto v = mb.sliceLast(*qkv, 2 * *hidden, *hidden, l + "attn");
    if (failed(q) || failed(k) || failed(v))
      return nullptr;
    auto attn = causalAttention(mb, *q, *k, *v, *heads, *heads, headDim, 0,
                                l + "attn");
    if (failed(attn))
      return nullptr;
    auto proj = mb.linear(*attn, l + "attn.c_proj", /*transposed=*/true);
    if (failed(proj) || failed(h = mb.add(*h, *proj, l + "attn")))
      return nullptr;
    auto m = mb.layerNorm(*h, l + "ln_2", eps);
    if (failed(m))
      return nullptr;
    auto fc = mb.linear(*m, l + "mlp.c_fc", /*transposed=*/true);
    if (failed(fc))
      return nullptr;
    auto g = mb.activation(*fc, act, l + "mlp");
    if (failed(g))
      return nullptr;
    auto down = mb.linear(*g, l + "mlp.c_proj", /*transposed=*/true);
    if (failed(down) || failed(h = mb.add(*h, *down, l + "mlp")))
      return nullptr;
  }
  auto f = mb.layerNorm(*h, *p + "ln_f", eps);
  if (failed(f))
    return nullptr;
  auto logits = lmHead(mb, *f, *p + "wte.weight");
  if (failed(logits))
    return nullptr;
  return mb.finish(*logits, "logits");
}

OwningOpRef<ModuleOp> hf::buildLlamaLike(ModelBuilder &mb, int64_t batch,
                                         int64_t seq, bool withMask) {
  auto layers = mb.intField("num_hidden_layers");
  auto heads = mb.intField("num_attention_heads");
  auto hidden = mb.intField("hidden_size");
  if (failed(layers) || failed(heads) || failed(hidden))
    return nullptr;
  int64_t kvHeads = mb.optionalInt("num_key_value_heads").value_or(*heads);
  if (kvHeads <= 0 || *heads % kvHeads != 0) {
    mb.configError() << "config.json: num_attention_heads " << *heads
                     << " is not a multiple of num_key_value_heads " << kvHeads;
    return nullptr;
  }
  std::optional<int64_t> explicitHeadDim = mb.optionalInt("head_dim");
  if (!explicitHeadDim && *hidden % *heads != 0) {
    mb.configError() << "config.json: hidden_size " << *hidden
                     << " is not divisible by num_attention_heads " << *heads
                     << " and there is no head_dim";
    return nullptr;
  }
  int64_t headDim = explicitHeadDim.value_or(*hidden / *heads);
  if (headDim <= 0) {
    mb.configError() << "config.json: invalid head_dim " << headDim;
    return nullptr;
  }
  double eps = mb.optionalFloat("rms_norm_eps").value_or(1e-6);
  std::string act = mb.optionalString("hidden_act").value_or("silu").str();

  // RoPE: theta at the top level (older configs) or in rope_parameters.
  double theta = mb.optionalFloat("rope_theta").value_or(10000.0);
  double partial = mb.optionalFloat("partial_rotary_factor").value_or(1.0);
  for (llvm::StringRef key : {"rope_parameters", "rope_scaling"}) {
    const llvm::json::Object *rope = mb.config().getObject(key);
    if (!rope)
      continue;
    if (auto t = rope->getNumber("rope_theta"))
      theta = *t;
    if (auto f = rope->getNumber("partial_rotary_factor"))
      partial = *f;
    std::optional<llvm::StringRef> type = rope->getString("rope_type");
    if (!type)
      type = rope->getString("type");
    if (type && *type != "default") {
      mb.configError() << "config.json: " << key << ".rope_type '" << *type
                       << "' is not supported (only 'default')";
      return nullptr;
    }
  }
  int64_t rotaryDim = (int64_t)(headDim * partial);
  rotaryDim -= rotaryDim % 2;
  if (rotaryDim <= 0 || rotaryDim > headDim) {
    mb.configError() << "config.json: partial_rotary_factor " << partial
                     << " gives no valid rotary size for head_dim " << headDim;
    return nullptr;
  }

  FailureOr<std::vector<int64_t>> windows = slidingWindows(mb, *layers);
  if (failed(windows))
    return nullptr;

  std::optional<std::string> p =
      mb.detectPrefix({"model.", ""}, "embed_tokens.weight");
  if (!p) {
    mb.configError() << "no embeddings found: expected a tensor "
                        "'model.embed_tokens.weight'";
    return nullptr;
  }
  mb.beginMain(batch, seq, withMask);
  OpBuilder &b = mb.builder();
  auto h = mb.embedding(mb.inputIds(), *p + "embed_tokens.weight");
  if (failed(h))
    return nullptr;
  auto rope = [&](Value x, int64_t numHeads,
                  llvm::StringRef scope) -> FailureOr<Value> {
    auto op = createInferred<RopeOp>(b, mb.loc(scope), x, Value(), (uint64_t)numHeads,
                                     (uint64_t)rotaryDim, llvm::APFloat(theta),
                                     RopeLayout::half);
    if (failed(op))
      return failure();
    return op->getResult();
  };
  for (int64_t i = 0, n = mb.layersToBuild(*layers); i < n; ++i) {
    std::string l = *p + "layers." + std::to_string(i) + ".";
    auto a = mb.rmsNorm(*h, l + "input_layernorm", eps);
    if (failed(a))
      return nullptr;
    auto q = mb.linear(*a, l + "self_attn.q_proj");
    auto k = mb.linear(*a, l + "self_attn.k_proj");
    auto v = mb.linear(*a, l + "self_attn.v_proj");
    if (failed(q) || failed(k) || failed(v))
      return nullptr;
    auto qr = rope(*q, *heads, l + "self_attn.rotary_emb");
    auto kr = rope(*k, kvHeads, l + "self_attn.rotary_emb");
    if (failed(qr) || failed(kr))
      return nullptr;
    auto attn = causalAttention(mb, *qr, *kr, *v, *heads, kvHeads, headDim,
                                (*windows)[i], l + "self_attn");
    if (failed(attn))
      return nullptr;
    auto o = mb.linear(*attn, l + "self_attn.o_proj");
    if (failed(o) || failed(h = mb.add(*h, *o, l + "self_attn")))
      return nullptr;
    auto m = mb.rmsNorm(*h, l + "post_attention_layernorm", eps);
    if (failed(m))
      return nullptr;
    auto gate = mb.linear(*m, l + "mlp.gate_proj");
    auto up = mb.linear(*m, l + "mlp.up_proj");
    if (failed(gate) || failed(up))
      return nullptr;
    auto g = mb.activation(*gate, act, l + "mlp.act_fn");
    if (failed(g))
      return nullptr;
    auto prod = mb.mul(*g, *up, l + "mlp");
    if (failed(prod))
      return nullptr;
    auto down = mb.linear(*prod, l + "mlp.down_proj");
    if (failed(down) || failed(h = mb.add(*h, *down, l + "mlp")))
      return nullptr;
  }
  auto f = mb.rmsNorm(*h, *p + "norm", eps);
  if (failed(f))
    return nullptr;
  auto logits = lmHead(mb, *f, *p + "embed_tokens.weight");
  if (failed(logits))
    return nullptr;
  return mb.finish(*logits, "logits");
}
