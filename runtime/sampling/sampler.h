// Token sampling on CPU logits, llama.cpp-like: repetition penalty over the last N accepted
// tokens, then top-k, top-p and min-p truncation (on the untempered distribution), temperature,
// softmax and a seeded draw. temperature 0 is greedy: argmax, ties to the lowest id.
// Reproducible across platforms: std::mt19937_64 and our own bits-to-double (no std distribution).
// Errors: tessera::Error "[sampler] ...".
#pragma once
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace tessera {

struct SamplingParams {
  float temperature = 0.0f;     // 0: greedy (argmax); else logits are divided by it
  int top_k = 0;                // keep the k most likely tokens; 0: off
  float top_p = 1.0f;           // keep the smallest most-likely set with probability >= top_p; 1: off
  float min_p = 0.0f;           // keep tokens with p >= min_p * p_max; 0: off
  float repeat_penalty = 1.0f;  // > 1 discourages recent tokens; 1: off
  int repeat_last_n = 64;       // how many accepted tokens the penalty looks back; 0: off, -1: all
  std::uint64_t seed = 0;       // seed of the std::mt19937_64 behind the draw
};

// A token and its raw logit: the GPU top-k's output (Gemma4Session::decode_top).
struct TokenLogit {
  std::uint32_t id = 0;
  float logit = 0.0f;
};

// One surviving token and its probability in the distribution the draw uses.
struct TokenProb {
  std::uint32_t id = 0;
  float p = 0.0f;
};

class Sampler {
 public:
  // Throws for out-of-range parameters (negative top_k, top_p outside (0, 1], ...).
  Sampler(SamplingParams params, std::uint32_t n_vocab);

  // Picks the next token from logits [n_vocab] f32. Does not accept it (call accept()).
  std::uint32_t sample(std::span<const float> logits);
  // How many of the highest raw logits sample_top() needs to pick exactly what sample() would on
  // the full logits: greedy 1, top-k k, plus the distinct tokens the repetition penalty lowers
  // (each may drop out of the set); 0 when it needs the whole vocabulary (top-k off, or a penalty
  // below 1, which raises logits).
  std::uint32_t top_needed() const;
  // sample() from the highest logits only: `top` holds at least top_needed() of them, the highest
  // of the vocabulary (any order), as a GPU top-k gives. Throws when top_needed() is 0 or short.
  std::uint32_t sample_top(std::span<const TokenLogit> top);

  // The distribution sample() would draw from: survivors of the truncation chain with their
  // final (tempered, normalised) probabilities, most likely first (ties: lower id first).
  // Greedy params give the single argmax token with p = 1.
  std::vector<TokenProb> distribution(std::span<const float> logits);

  // Speculative sampling against a deterministic draft (the MTP drafter's argmax): the token to
  // emit at this position, accepted = it is the draft. Greedy: the argmax. Otherwise the draft is
  // kept with probability p(draft) (p: distribution()), and on rejection a token is drawn from p
  // without the draft, renormalised; the result is distributed exactly as sample()'s (speculative
  // sampling with a point-mass draft distribution).
  std::uint32_t verify_draft(std::span<const float> logits, std::uint32_t draft, bool& accepted);
  // Records a token of the sequence (prompt or generated) for the repetition penalty.
  void accept(std::uint32_t token);
  // Forgets the history and re-seeds the generator.
  void reset();

  const SamplingParams& params() const { return params_; }
  std::uint32_t n_vocab() const { return n_vocab_; }

 private:
  struct Candidate {
    std::uint32_t id;
    float logit;
  };
  static bool more_likely(const Candidate& a, const Candidate& b);  // logit desc, then id asc
  void check_size(std::span<const float> logits) const;
  // Copies logits (NaN -> -inf), applies the penalty and the truncation chain; leaves the
  // survivors in cands_ with their penalised untempered logits, in id order or, once a step
  // had to sort, most likely first: deterministic either way.
  void truncate(std::span<const float> logits);
  // The truncation chain (top-k, top-p, min-p) over cands_ (penalised logits, any order).
  void truncate_candidates();
  static float sanitized(float logit);  // NaN -> -inf, +inf -> the largest float
  float penalized(float logit) const;   // the repetition penalty applied
  std::uint32_t draw();                 // tempered softmax over cands_ and one draw
  void keep_top_p(bool& sorted);
  float max_logit(bool sorted) const;
  double tempered_weights();  // probs_[i] = exp((logit_i - max) / T); returns their sum
  std::uint32_t argmax(std::span<const float> logits) const;
  double uniform();  // [0, 1) from the top 53 bits of one draw

  SamplingParams params_;
  std::uint32_t n_vocab_ = 0;
  std::mt19937_64 rng_;
  std::deque<std::uint32_t> history_;                     // last accepted tokens, oldest first
  std::unordered_map<std::uint32_t, std::uint32_t> seen_;  // token -> count in history_
  std::vector<Candidate> cands_;                           // [n_vocab] work buffer
  std::vector<double> probs_;                              // [n candidates] work buffer
};

}  // namespace tessera
