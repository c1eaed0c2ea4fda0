//===- HFEncoders.cpp - BERT and DistilBERT from safetensors --------------===//
//
// Both are post-LN encoders: attention -> add & norm -> FFN -> add & norm,
// with learned absolute position embeddings and a padding mask.
//
//===----------------------------------------------------------------------===//

#include "HFModelBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfx;
using namespace mlir::tfx::hf;

namespace {

struct EncoderNames {
  std::string query, key, value, attnOut, attnNorm, ffnIn, ffnOut, ffnNorm;
};

/// One post-LN layer; `h` is updated in place.
LogicalResult encoderLayer(ModelBuilder &mb, Value &h, const EncoderNames &n,
                           int64_t heads, double eps, llvm::StringRef act) {
  auto q = mb.linear(h, n.query);
  auto k = mb.linear(h, n.key);
  auto v = mb.linear(h, n.value);
  if (failed(q) || failed(k) || failed(v))
    return failure();
  auto qType = cast<RankedTensorType>(q->getType());
  if (qType.getShape().back() % heads != 0) {
    mb.configError() << "config.json: hidden size " << qType.getShape().back()
                     << " is not divisible by the number of heads " << heads;
    return failure();
  }
  int64_t headDim = qType.getShape().back() / heads;
  OpBuilder &b = mb.builder();
  auto attn = createInferred<AttentionOp>(
      b, mb.loc(n.query.substr(0, n.query.rfind('.'))), *q, *k, *v,
      mb.attentionMask(), (uint64_t)heads, (uint64_t)heads,
      llvm::APFloat((float)(1.0 / std::sqrt((double)headDim))),
      /*causal=*/false, /*window=*/(uint64_t)0, AttentionKind::softmax);
  if (failed(attn))
    return failure();
  auto o = mb.linear(attn->getResult(), n.attnOut);
  if (failed(o))
    return failure();
  auto res1 = mb.add(*o, h, n.attnNorm);
  if (failed(res1))
    return failure();
  auto h1 = mb.layerNorm(*res1, n.attnNorm, eps);
  if (failed(h1))
    return failure();
  auto up = mb.linear(*h1, n.ffnIn);
  if (failed(up))
    return failure();
  auto a = mb.activation(*up, act, n.ffnIn);
  if (failed(a))
    return failure();
  auto down = mb.linear(*a, n.ffnOut);
  if (failed(down))
    return failure();
  auto res2 = mb.add(*down, *h1, n.ffnNorm);
  if (failed(res2))
    return failure();
  auto h2 = mb.layerNorm(*res2, n.ffnNorm, eps);
  if (failed(h2))
    return failure();
  h = *h2;
  return success();
}

} // namespace

OwningOpRef<ModuleOp> hf::buildBert(ModelBuilder &mb, int64_t batch,
                                    int64_t seq, bool withMask) {
  auto layers = mb.intField("num_hidden_layers");
  auto heads = mb.intField("num_attention_heads");
  if (failed(layers) || failed(heads))
    return nullptr;
  double eps = mb.optionalFloat("layer_norm_eps").value_or(1e-12);
  std::string act = mb.optionalString("hidden_act").value_or("gelu").str();
  if (auto posType = mb.optionalString("position_embedding_type"))
    if (*posType != "absolute") {
      mb.configError() << "config.json: position_embedding_type '" << *posType
                       << "' is not supported (only 'absolute')";
      return nullptr;
    }
  std::optional<std::string> p =
      mb.detectPrefix({"", "bert."}, "embeddings.word_embeddings.weight");
  if (!p) {
    mb.configError() << "no BERT embeddings found: expected a tensor "
                        "'embeddings.word_embeddings.weight' (optionally "
                        "prefixed 'bert.')";
    return nullptr;
  }
  mb.beginMain(batch, seq, withMask);
  auto word = mb.embedding(mb.inputIds(), *p + "embeddings.word_embeddings.weight");
  auto pos = mb.embedding(mb.positions(seq, *p + "embeddings.position_ids"),
                          *p + "embeddings.position_embeddings.weight");
  if (failed(word) || failed(pos))
    return nullptr;
  auto sum = mb.add(*word, *pos, *p + "embeddings");
  if (failed(sum))
    return nullptr;
  if (mb.hasTensor(*p + "embeddings.token_type_embeddings.weight")) {
    // No token_type_ids input: every token is of type 0, as HF defaults.
    auto tt = mb.embedding(mb.positions(seq, *p + "embeddings.token_type_ids",
                                          /*zeros=*/true),
                           *p + "embeddings.token_type_embeddings.weight");
    if (failed(tt) || failed(sum = mb.add(*sum, *tt, *p + "embeddings")))
      return nullptr;
  }
  auto h = mb.layerNorm(*sum, *p + "embeddings.LayerNorm", eps);
  if (failed(h))
    return nullptr;
  Value hidden = *h;
  for (int64_t i = 0; i < *layers; ++i) {
    std::string l = *p + "encoder.layer." + std::to_string(i) + ".";
    EncoderNames n{l + "attention.self.query", l + "attention.self.key",
                   l + "attention.self.value", l + "attention.output.dense",
                   l + "attention.output.LayerNorm", l + "intermediate.dense",
                   l + "output.dense", l + "output.LayerNorm"};
    if (failed(encoderLayer(mb, hidden, n, *heads, eps, act)))
      return nullptr;
  }
  return mb.finish(hidden, "last_hidden_state");
}

OwningOpRef<ModuleOp> hf::buildDistilBert(ModelBuilder &mb, int64_t batch,
                                          int64_t seq, bool withMask) {
  auto layers = mb.intField("n_layers");
  auto heads = mb.intField("n_heads");
  if (failed(layers) || failed(heads))
    return nullptr;
  if (mb.optionalBool("sinusoidal_pos_embds").value_or(false)) {
    mb.configError() << "config.json: sinusoidal_pos_embds is not supported";
    return nullptr;
  }
  std::string act = mb.optionalString("activation").value_or("gelu").str();
  const double eps = 1e-12; // fixed in DistilBERT's modeling code
  std::optional<std::string> p =
      mb.detectPrefix({"", "distilbert."}, "embeddings.word_embeddings.weight");
  if (!p) {
    mb.configError() << "no DistilBERT embeddings found: expected a tensor "
                        "'embeddings.word_embeddings.weight'";
    return nullptr;
  }
  mb.beginMain(batch, seq, withMask);
  auto word = mb.embedding(mb.inputIds(), *p + "embeddings.word_embeddings.weight");
  auto pos = mb.embedding(mb.positions(seq, *p + "embeddings.position_ids"),
                          *p + "embeddings.position_embeddings.weight");
  if (failed(word) || failed(pos))
    return nullptr;
  auto sum = mb.add(*word, *pos, *p + "embeddings");
  if (failed(sum))
    return nullptr;
  auto h = mb.layerNorm(*sum, *p + "embeddings.LayerNorm", eps);
  if (failed(h))
    return nullptr;
  Value hidden = *h;
  for (int64_t i = 0; i < *layers; ++i) {
    std::string l = *p + "transformer.layer." + std::to_string(i) + ".";
    EncoderNames n{l + "attention.q_lin", l + "attention.k_lin",
                   l + "attention.v_lin", l + "attention.out_lin",
                   l + "sa_layer_norm",   l + "ffn.lin1",
                   l + "ffn.lin2",        l + "output_layer_norm"};
    if (failed(encoderLayer(mb, hidden, n, *heads, eps, act)))
      return nullptr;
  }
  return mb.finish(hidden, "last_hidden_state");
}
