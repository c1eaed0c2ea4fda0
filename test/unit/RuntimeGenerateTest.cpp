//===- RuntimeGenerateTest.cpp - libtfxrt: generation, sampling, batching -===//
//
// Drives tfx_generate and the batching scheduler with the hand-written
// decoder artifacts of test/Runtime/Inputs/toy_decoder.c, whose next token
// follows from the whole history (and whose steps fail when a cached key or
// value is not where the block table says), and checks the sampler's
// processors on hand-made logits.
//
//===----------------------------------------------------------------------===//

#include "tfx/runtime.h"

extern "C" {
#include "../../runtime/src/sampling.h"
}

#include "gtest/gtest.h"

#include <cmath>
#include <string>
#include <vector>

extern "C" const tfx_artifact toy_decoder_artifact;
extern "C" const tfx_artifact toy_draft_artifact;
extern "C" const tfx_artifact toy_sampling_artifact;
extern "C" const tfx_artifact toy_sampling_draft_artifact;
extern "C" const tfx_artifact tiny_artifact;

namespace {

constexpr int kVocab = 16, kCapacity = 16;

struct Result {
  tfx_status_code code;
  std::string message;
};
Result take(tfx_status *status) {
  Result result{tfx_status_get_code(status), tfx_status_message(status)};
  tfx_status_free(status);
  return result;
}

struct Model {
  tfx_model *model = nullptr;
  explicit Model(const tfx_artifact &artifact) {
    EXPECT_EQ(take(tfx_model_open_embedded(&artifact, nullptr, &model)).code,
              TFX_STATUS_OK);
  }
  ~Model() { tfx_model_close(model); }
};

/// The toy target's greedy continuation: after a token at position p with
/// token sum s up to it comes (3s + p) % 16.
std::vector<int64_t> expected(std::vector<int64_t> tokens, int count) {
  size_t prompt = tokens.size();
  for (int i = 0; i < count && tokens.size() <= (size_t)kCapacity; ++i) {
    int64_t sum = 0;
    for (int64_t t : tokens)
      sum += t;
    tokens.push_back((3 * sum + (int64_t)tokens.size() - 1) % kVocab);
  }
  return std::vector<int64_t>(tokens.begin() + prompt, tokens.end());
}

struct Generated {
  Result status;
  std::vector<int64_t> tokens;
  tfx_generate_stats stats{};
};

Generated generate(tfx_model *model, const std::vector<int64_t> &prompt,
                   const tfx_generate_options &options) {
  Generated g;
  g.tokens.resize(std::max(1, options.max_new_tokens));
  int32_t count = 0;
  g.status = take(tfx_generate(model, nullptr, prompt.data(), (int32_t)prompt.size(),
                               &options, g.tokens.data(), (int32_t)g.tokens.size(),
                               &count, &g.stats));
  g.tokens.resize(count);
  return g;
}

tfx_generate_options defaults(int maxNew) {
  tfx_generate_options o;
  tfx_generate_options_init(&o);
  o.max_new_tokens = maxNew;
  return o;
}

TEST(RuntimeGenerate, GreedyFollowsTheHistoryThroughTheCache) {
  Model toy(toy_decoder_artifact);
  // Prompts shorter than, equal to and longer than the prefill chunk (4);
  // a long one's tail chunk overlaps tokens already cached.
  for (std::vector<int64_t> prompt :
       {std::vector<int64_t>{7}, {1, 2, 3}, {5, 0, 9, 2}, {3, 3, 1, 4, 1, 5},
        {2, 7, 1, 8, 2, 8, 1, 8, 2}}) {
    Generated g = generate(toy.model, prompt, defaults(5));
    ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
    EXPECT_EQ(g.tokens, expected(prompt, 5));
    EXPECT_EQ(g.stats.finish_reason, TFX_FINISH_LENGTH);
    EXPECT_EQ(g.stats.new_tokens, 5);
    EXPECT_EQ(g.stats.prompt_tokens, (int32_t)prompt.size());
    // One prefill call per chunk, then one decode call per further token.
    EXPECT_EQ(g.stats.model_calls, (int32_t)(prompt.size() + 3) / 4 + 4);
  }
}

TEST(RuntimeGenerate, StopsAtTheContext) {
  Model toy(toy_decoder_artifact);
  std::vector<int64_t> prompt = {3, 3, 1, 4, 1, 5};
  Generated g = generate(toy.model, prompt, defaults(30));
  ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
  // 16 tokens fit the cache; the 17th is chosen but never fed back.
  EXPECT_EQ(g.tokens.size(), 11u);
  EXPECT_EQ(g.tokens, expected(prompt, 11));
  EXPECT_EQ(g.stats.finish_reason, TFX_FINISH_CONTEXT);
}

TEST(RuntimeGenerate, StopTokensAndCallback) {
  Model toy(toy_decoder_artifact);
  std::vector<int64_t> prompt = {1, 2, 3};
  std::vector<int64_t> all = expected(prompt, 8);
  tfx_generate_options o = defaults(8);
  int64_t stop = all[3];
  o.stop_tokens = &stop;
  o.num_stop_tokens = 1;
  std::vector<int64_t> streamed;
  o.on_token = [](void *user, int64_t token) -> int32_t {
    static_cast<std::vector<int64_t> *>(user)->push_back(token);
    return 0;
  };
  o.user_data = &streamed;
  Generated g = generate(toy.model, prompt, o);
  ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
  size_t first = std::find(all.begin(), all.end(), stop) - all.begin();
  EXPECT_EQ(g.tokens, std::vector<int64_t>(all.begin(), all.begin() + first + 1));
  EXPECT_EQ(streamed, g.tokens);
  EXPECT_EQ(g.stats.finish_reason, TFX_FINISH_STOP);

  // A callback that says stop after two tokens.
  tfx_generate_options c = defaults(8);
  int calls = 0;
  c.on_token = [](void *user, int64_t) -> int32_t { return ++*static_cast<int *>(user) == 2; };
  c.user_data = &calls;
  g = generate(toy.model, prompt, c);
  EXPECT_EQ(g.tokens.size(), 2u);
  EXPECT_EQ(g.stats.finish_reason, TFX_FINISH_CALLBACK);
}

TEST(RuntimeGenerate, RefusesBadRequests) {
  Model toy(toy_decoder_artifact), tiny(tiny_artifact), sampling(toy_sampling_artifact);
  Generated g = generate(tiny.model, {1}, defaults(2));
  EXPECT_EQ(g.status.code, TFX_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(g.status.message, "model 'tiny' has no generation entries (compile the "
                              "decoder with tfx-compile --decoder)");
  g = generate(toy.model, {1, 99}, defaults(2));
  EXPECT_EQ(g.status.message,
            "prompt token 1 (99) is outside the vocabulary [0, 16)");
  g = generate(toy.model, std::vector<int64_t>(17, 1), defaults(2));
  EXPECT_EQ(g.status.message,
            "the prompt has 17 tokens; the model holds at most 16 per sequence");
  tfx_generate_options o = defaults(2);
  o.top_p = 0.0f;
  EXPECT_EQ(generate(toy.model, {1}, o).status.code, TFX_STATUS_INVALID_ARGUMENT);
  o = defaults(2);
  o.draft = sampling.model;
  o.draft_tokens = 4; // needs a 5-token step; the toy's longest has 4
  EXPECT_EQ(generate(toy.model, {1}, o).status.message,
            "the model has no step entry of 5 tokens to check 4 draft tokens "
            "(tfx-compile --verify-tokens)");
  int64_t token;
  int32_t count;
  EXPECT_EQ(take(tfx_generate(toy.model, nullptr, nullptr, 1, nullptr, &token, 64,
                              &count, nullptr))
                .code,
            TFX_STATUS_INVALID_ARGUMENT);
}

TEST(RuntimeGenerate, SpeculativeGreedyEqualsPlain) {
  Model toy(toy_decoder_artifact), draft(toy_draft_artifact);
  int proposed = 0, accepted = 0;
  for (int k : {1, 2, 3}) {
    for (std::vector<int64_t> prompt :
         {std::vector<int64_t>{4}, {1, 2, 3, 4, 5}, {9, 9}}) {
      tfx_generate_options o = defaults(9);
      o.draft = draft.model;
      o.draft_tokens = k;
      Generated g = generate(toy.model, prompt, o);
      ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
      EXPECT_EQ(g.tokens, expected(prompt, 9)) << "k = " << k;
      EXPECT_LE(g.stats.draft_accepted, g.stats.draft_proposed);
      proposed += g.stats.draft_proposed;
      accepted += g.stats.draft_accepted;
    }
  }
  // The draft is wrong one time in three.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, proposed);
  // The model as its own draft: every proposal is accepted, so one model
  // call yields draft_tokens + 1 tokens.
  tfx_generate_options o = defaults(9);
  o.draft = toy.model;
  o.draft_tokens = 2;
  Generated g = generate(toy.model, {1, 2}, o);
  ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
  EXPECT_EQ(g.tokens, expected({1, 2}, 9));
  EXPECT_EQ(g.stats.draft_accepted, g.stats.draft_proposed);
  // Prefill, then rounds of 3 tokens after the first: 1 + 8 / 3 rounds (the
  // last round, 2 tokens from the end, proposes 1).
  EXPECT_EQ(g.stats.model_calls, 1 + 3);
}

/// Chi-square statistic of token counts against the toy sampler's target
/// distribution p(v) = (v % 4 + 1) / 40.
double chiSquare(const std::vector<int> &counts, int total) {
  double chi = 0;
  for (int v = 0; v < kVocab; ++v) {
    double want = total * (v % 4 + 1) / 40.0;
    chi += (counts[v] - want) * (counts[v] - want) / want;
  }
  return chi;
}

TEST(RuntimeGenerate, SpeculativeSamplingKeepsTheModelsDistribution) {
  Model target(toy_sampling_artifact), draft(toy_sampling_draft_artifact);
  // 2000 seeds x 4 tokens, plain and with a draft whose distribution
  // differs. With 15 degrees of freedom, chi-square stays below 37.7 with
  // probability 0.999 when the distribution is right; the seeds are fixed,
  // so the outcome is too.
  for (bool speculative : {false, true}) {
    std::vector<int> counts(kVocab, 0);
    int total = 0, proposed = 0, accepted = 0;
    for (int seed = 0; seed < 2000; ++seed) {
      tfx_generate_options o = defaults(4);
      o.temperature = 1.0f;
      o.seed = (uint64_t)seed;
      if (speculative) {
        o.draft = draft.model;
        o.draft_tokens = 3;
      }
      Generated g = generate(target.model, {1}, o);
      ASSERT_EQ(g.status.code, TFX_STATUS_OK) << g.status.message;
      for (int64_t t : g.tokens)
        ++counts[t], ++total;
      proposed += g.stats.draft_proposed;
      accepted += g.stats.draft_accepted;
    }
    EXPECT_LT(chiSquare(counts, total), 37.7) << (speculative ? "speculative" : "plain");
    if (speculative) {
      EXPECT_GT(accepted, 0);
      EXPECT_LT(accepted, proposed);
    }
  }
}

TEST(RuntimeGenerate, SeedsAreReproducible) {
  Model target(toy_sampling_artifact);
  tfx_generate_options o = defaults(12);
  o.temperature = 0.8f;
  o.top_k = 6;
  o.seed = 42;
  Generated a = generate(target.model, {3}, o), b = generate(target.model, {3}, o);
  EXPECT_EQ(a.tokens, b.tokens);
  o.seed = 43;
  EXPECT_NE(generate(target.model, {3}, o).tokens, a.tokens);
}

TEST(RuntimeSampler, Processors) {
  tfx_generate_options o = defaults(1);
  tfx__sampler s;
  // Repetition penalty: seen tokens 0 and 2, penalty 2.
  o.repetition_penalty = 2.0f;
  ASSERT_EQ(tfx__sampler_init(&s, &o, 4), nullptr);
  tfx__sampler_note(&s, 0, 1);
  tfx__sampler_note(&s, 2, 1);
  float logits[4] = {2.0f, 1.5f, -1.0f, 0.5f};
  EXPECT_EQ(tfx__sampler_next(&s, logits), 1); // 2/2 = 1 < 1.5
  tfx__sampler_note(&s, 0, -1);
  EXPECT_EQ(tfx__sampler_next(&s, logits), 0);
  tfx__sampler_free(&s);

  // Temperature alone: softmax(logits / T).
  o = defaults(1);
  o.temperature = 2.0f;
  ASSERT_EQ(tfx__sampler_init(&s, &o, 4), nullptr);
  float probs[4];
  tfx__sampler_distribution(&s, logits, probs);
  double z = 0;
  for (float l : logits)
    z += std::exp(l / 2.0);
  for (int v = 0; v < 4; ++v)
    EXPECT_NEAR(probs[v], std::exp(logits[v] / 2.0) / z, 1e-6);
  tfx__sampler_free(&s);

  // Top-p 0.5 over probabilities (0.4, 0.3, 0.2, 0.1): the mass above the
  // third token (0.7) reaches p, so two remain, renormalized.
  float fromProbs[4] = {std::log(0.4f), std::log(0.3f), std::log(0.2f), std::log(0.1f)};
  o = defaults(1);
  o.temperature = 1.0f;
  o.top_p = 0.5f;
  ASSERT_EQ(tfx__sampler_init(&s, &o, 4), nullptr);
  tfx__sampler_distribution(&s, fromProbs, probs);
  EXPECT_NEAR(probs[0], 4.0 / 7, 1e-6);
  EXPECT_NEAR(probs[1], 3.0 / 7, 1e-6);
  EXPECT_EQ(probs[2], 0.0f);
  EXPECT_EQ(probs[3], 0.0f);
  tfx__sampler_free(&s);

  // Top-k 3 keeps the three largest; top-k 1 is greedy.
  o.top_p = 1.0f;
  o.top_k = 3;
  ASSERT_EQ(tfx__sampler_init(&s, &o, 4), nullptr);
  tfx__sampler_distribution(&s, fromProbs, probs);
  EXPECT_NEAR(probs[0], 0.4 / 0.9, 1e-6);
  EXPECT_NEAR(probs[2], 0.2 / 0.9, 1e-6);
  EXPECT_EQ(probs[3], 0.0f);
  tfx__sampler_free(&s);
  o.top_k = 1;
  ASSERT_EQ(tfx__sampler_init(&s, &o, 4), nullptr);
  EXPECT_TRUE(tfx__sampler_greedy(&s));
  tfx__sampler_distribution(&s, fromProbs, probs);
  EXPECT_EQ(probs[0], 1.0f);
  tfx__sampler_free(&s);
}

TEST(RuntimeScheduler, BatchesRequestsOfDifferentLengths) {
  Model toy(toy_decoder_artifact);
  tfx_scheduler *s = nullptr;
  EXPECT_EQ(take(tfx_scheduler_create(toy.model, nullptr, 4, &s)).message,
            "max_batch 4: the model's decode entries take 1 to 3 sequences "
            "(tfx-compile --decode-batch)");
  ASSERT_EQ(take(tfx_scheduler_create(toy.model, nullptr, 0, &s)).code, TFX_STATUS_OK);
  // Seven requests that need 2 to 4 blocks each of the 12 in the pool: the
  // later ones wait for blocks as well as for room in the batch.
  std::vector<std::vector<int64_t>> prompts = {
      {1}, {2, 3, 4, 5, 6}, {7, 7}, {0, 1, 2, 3, 4, 5, 6, 7, 8}, {9}, {4, 4, 4}, {5, 1}};
  std::vector<int> lengths = {6, 3, 9, 7, 12, 2, 5};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < prompts.size(); ++i) {
    tfx_generate_options o = defaults(lengths[i]);
    int64_t id;
    ASSERT_EQ(take(tfx_scheduler_submit(s, prompts[i].data(), (int32_t)prompts[i].size(),
                                        &o, &id))
                  .code,
              TFX_STATUS_OK);
    ids.push_back(id);
  }
  int32_t pending = 0, steps = 0;
  do {
    ASSERT_EQ(take(tfx_scheduler_step(s, &pending)).code, TFX_STATUS_OK);
    ++steps;
  } while (pending > 0 && steps < 1000);
  EXPECT_EQ(pending, 0);
  int sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int64_t *tokens;
    int32_t count, finished;
    tfx_generate_stats stats;
    ASSERT_EQ(take(tfx_scheduler_result(s, ids[i], &tokens, &count, &finished, &stats)).code,
              TFX_STATUS_OK);
    EXPECT_TRUE(finished);
    EXPECT_EQ(std::vector<int64_t>(tokens, tokens + count), expected(prompts[i], lengths[i]))
        << "request " << i;
    sum += count;
  }
  // Batched: fewer steps than tokens.
  EXPECT_LT(steps, sum);
  EXPECT_EQ(take(tfx_scheduler_result(s, 99, nullptr, nullptr, nullptr, nullptr)).code,
            TFX_STATUS_NOT_FOUND);
  tfx_scheduler_destroy(s);
}

} // namespace
