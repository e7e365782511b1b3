// Sampler: penalty -> top-k -> top-p -> min-p -> temperature -> softmax -> draw (see sampler.h).
// Candidates stay in a deterministic order throughout (ids ascending, or sorted by logit then
// id), so the same seed gives the same tokens with any standard library.
#include "runtime/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "engine/error.h"

namespace tessera {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("[sampler] " + what); }

}  // namespace

Sampler::Sampler(SamplingParams params, std::uint32_t n_vocab) : params_(params), n_vocab_(n_vocab) {
  const SamplingParams& p = params_;
  if (n_vocab == 0) fail("n_vocab is 0");
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
    fail("temperature " + std::to_string(p.temperature) + " must be finite and >= 0");
  if (p.top_k < 0) fail("top_k " + std::to_string(p.top_k) + " must be >= 0 (0: off)");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) fail("top_p " + std::to_string(p.top_p) + " must be in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) fail("min_p " + std::to_string(p.min_p) + " must be in [0, 1]");
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty))
    fail("repeat_penalty " + std::to_string(p.repeat_penalty) + " must be finite and > 0");
  if (p.repeat_last_n < -1) fail("repeat_last_n " + std::to_string(p.repeat_last_n) + " must be >= -1");
  cands_.reserve(n_vocab);
  reset();
}

void Sampler::reset() {
  history_.clear();
  seen_.clear();
  rng_.seed(params_.seed);
}

void Sampler::accept(std::uint32_t token) {
  if (token >= n_vocab_)
    fail("accepted token " + std::to_string(token) + " is outside the vocabulary (n_vocab " + std::to_string(n_vocab_) + ")");
  const int window = params_.repeat_last_n;
  if (window == 0) return;
  history_.push_back(token);
  ++seen_[token];
  if (window > 0 && history_.size() > static_cast<std::size_t>(window)) {
    const std::uint32_t old = history_.front();
    history_.pop_front();
    if (--seen_[old] == 0) seen_.erase(old);
  }
}

double Sampler::uniform() {
  // The top 53 bits of one 64-bit draw, scaled into [0, 1): exact and the same everywhere.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

bool Sampler::more_likely(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void Sampler::check_size(std::span<const float> logits) const {
  if (logits.size() != n_vocab_)
    fail("logits hold " + std::to_string(logits.size()) + " values but n_vocab is " + std::to_string(n_vocab_));
}

float Sampler::max_logit(bool sorted) const {
  return sorted ? cands_.front().logit : std::min_element(cands_.begin(), cands_.end(), more_likely)->logit;
}

void Sampler::truncate(std::span<const float> logits) {
  check_size(logits);
  cands_.resize(n_vocab_);
  for (std::uint32_t i = 0; i < n_vocab_; ++i) cands_[i] = {i, sanitized(logits[i])};
  // Repetition penalty, once per distinct recent token (cands_ is indexed by id here).
  if (params_.repeat_penalty != 1.0f)
    for (const auto& [id, count] : seen_) cands_[id].logit = penalized(cands_[id].logit);
  truncate_candidates();
}

float Sampler::sanitized(float logit) {
  constexpr float kMax = std::numeric_limits<float>::max();  // +inf would make exp(inf - inf) NaN
  return std::isnan(logit) ? -std::numeric_limits<float>::infinity() : std::min(logit, kMax);
}

float Sampler::penalized(float logit) const {
  return logit > 0.0f ? logit / params_.repeat_penalty : logit * params_.repeat_penalty;
}

void Sampler::truncate_candidates() {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  if (std::none_of(cands_.begin(), cands_.end(), [&](const Candidate& c) { return c.logit > kNegInf; }))
    fail("every logit is -inf or NaN");
  bool sorted = false;
  if (params_.top_k > 0 && static_cast<std::size_t>(params_.top_k) < cands_.size()) {
    const auto k = static_cast<std::ptrdiff_t>(params_.top_k);
    std::nth_element(cands_.begin(), cands_.begin() + k - 1, cands_.end(), more_likely);
    cands_.resize(static_cast<std::size_t>(k));
    std::sort(cands_.begin(), cands_.end(), more_likely);  // nth_element's order is library-specific
    sorted = true;
  }
  if (params_.top_p < 1.0f && cands_.size() > 1) keep_top_p(sorted);
  if (params_.min_p > 0.0f && cands_.size() > 1) {
    // p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p); the order is kept.
    const double floor = static_cast<double>(max_logit(sorted)) + std::log(static_cast<double>(params_.min_p));
    std::erase_if(cands_, [&](const Candidate& c) { return static_cast<double>(c.logit) < floor; });
  }
}

std::uint32_t Sampler::top_needed() const {
  if (params_.repeat_penalty < 1.0f && !seen_.empty()) return 0;  // a penalty below 1 raises logits
  const auto penalized_n = static_cast<std::uint32_t>(params_.repeat_penalty != 1.0f ? seen_.size() : 0);
  if (params_.temperature == 0.0f) return std::min(n_vocab_, 1 + penalized_n);
  if (params_.top_k <= 0) return 0;
  return std::min<std::uint64_t>(n_vocab_, std::uint64_t(params_.top_k) + penalized_n);
}

std::uint32_t Sampler::sample_top(std::span<const TokenLogit> top) {
  const std::uint32_t need = top_needed();
  if (need == 0)
    fail("sample_top: these parameters need the whole vocabulary (top-k off or repeat penalty below 1)");
  if (top.size() < need)
    fail("sample_top: got " + std::to_string(top.size()) + " logits but needs the " + std::to_string(need) +
         " highest");
  cands_.clear();
  for (const TokenLogit& t : top) {
    if (t.id >= n_vocab_) fail("sample_top: token " + std::to_string(t.id) + " is outside the vocabulary");
    const float l = sanitized(t.logit);
    cands_.push_back({t.id, params_.repeat_penalty != 1.0f && seen_.contains(t.id) ? penalized(l) : l});
  }
  // The order sample() would leave them in when its top-k step runs: most likely first.
  std::sort(cands_.begin(), cands_.end(), more_likely);
  if (params_.temperature == 0.0f) {
    const Candidate best = cands_.front();
    if (best.logit == -std::numeric_limits<float>::infinity()) fail("every logit is -inf or NaN");
    return best.id;
  }
  truncate_candidates();
  return draw();
}

void Sampler::keep_top_p(bool& sorted) {
  // Softmax at temperature 1 over the current set; keep the shortest sorted prefix whose mass
  // reaches top_p. Sort only as far as needed: a prefix first, more if that falls short.
  const double lmax = max_logit(sorted);
  double total = 0.0;
  for (const Candidate& c : cands_) total += std::exp(static_cast<double>(c.logit) - lmax);
  const double target = static_cast<double>(params_.top_p) * total;
  std::size_t m = sorted ? cands_.size() : std::min<std::size_t>(cands_.size(), 1024);
  for (;;) {
    if (!sorted) {
      const auto mid = cands_.begin() + static_cast<std::ptrdiff_t>(m);
      if (mid != cands_.end()) std::nth_element(cands_.begin(), mid - 1, cands_.end(), more_likely);
      std::sort(cands_.begin(), mid, more_likely);
    }
    double cum = 0.0;
    std::size_t keep = 0;
    for (; keep < m && cum < target; ++keep) cum += std::exp(static_cast<double>(cands_[keep].logit) - lmax);
    if (cum >= target || m == cands_.size()) {
      cands_.resize(std::max<std::size_t>(keep, 1));
      sorted = true;
      return;
    }
    m = std::min(cands_.size(), m * 16);
  }
}

double Sampler::tempered_weights() {
  float lmax = -std::numeric_limits<float>::infinity();
  for (const Candidate& c : cands_) lmax = std::max(lmax, c.logit);
  const double inv_t = 1.0 / static_cast<double>(params_.temperature);
  probs_.resize(cands_.size());
  double total = 0.0;
  for (std::size_t i = 0; i < cands_.size(); ++i)
    total += probs_[i] = std::exp((static_cast<double>(cands_[i].logit) - lmax) * inv_t);
  return total;
}

std::uint32_t Sampler::argmax(std::span<const float> logits) const {
  check_size(logits);
  std::uint32_t best = n_vocab_;
  float best_logit = -std::numeric_limits<float>::infinity();
  const bool penalty = params_.repeat_penalty != 1.0f && !seen_.empty();
  for (std::uint32_t i = 0; i < n_vocab_; ++i) {
    float l = logits[i];
    if (std::isnan(l)) continue;
    if (penalty && seen_.contains(i)) l = penalized(l);
    if (best == n_vocab_ || l > best_logit) best = i, best_logit = l;  // strict: ties keep the lower id
  }
  if (best == n_vocab_ || best_logit == -std::numeric_limits<float>::infinity()) fail("every logit is -inf or NaN");
  return best;
}

std::uint32_t Sampler::sample(std::span<const float> logits) {
  if (params_.temperature == 0.0f) return argmax(logits);
  truncate(logits);
  return draw();
}

std::uint32_t Sampler::draw() {
  if (cands_.size() == 1) return cands_.front().id;
  const double total = tempered_weights();
  const double target = uniform() * total;
  double cum = 0.0;
  for (std::size_t i = 0; i < cands_.size(); ++i) {
    cum += probs_[i];
    if (target < cum) return cands_[i].id;
  }
  // Rounding left target at the very top: the last token with any mass.
  for (std::size_t i = cands_.size(); i-- > 0;)
    if (probs_[i] > 0.0) return cands_[i].id;
  return cands_.front().id;
}

std::uint32_t Sampler::verify_draft(std::span<const float> logits, std::uint32_t draft, bool& accepted) {
  if (params_.temperature == 0.0f) {
    const std::uint32_t id = argmax(logits);
    accepted = id == draft;
    return id;
  }
  truncate(logits);
  const double total = tempered_weights();
  std::size_t at = cands_.size();
  for (std::size_t i = 0; i < cands_.size(); ++i)
    if (cands_[i].id == draft) at = i;
  const double p_draft = at < cands_.size() ? probs_[at] / total : 0.0;
  accepted = uniform() < p_draft;
  if (accepted) return draft;
  // The residual max(0, p - q) with q the point mass at the draft: p without the draft.
  const double rest = total - (at < cands_.size() ? probs_[at] : 0.0);
  const double target = uniform() * rest;
  double cum = 0.0;
  std::uint32_t last = draft;
  for (std::size_t i = 0; i < cands_.size(); ++i) {
    if (i == at) continue;
    cum += probs_[i];
    last = cands_[i].id;
    if (target < cum) return last;
  }
  return last;  // rounding at the end of the sum
}

std::vector<TokenProb> Sampler::distribution(std::span<const float> logits) {
  if (params_.temperature == 0.0f) return {{argmax(logits), 1.0f}};
  truncate(logits);
  std::sort(cands_.begin(), cands_.end(), more_likely);
  const double total = tempered_weights();
  std::vector<TokenProb> out;
  out.reserve(cands_.size());
  for (std::size_t i = 0; i < cands_.size(); ++i) out.push_back({cands_[i].id, static_cast<float>(probs_[i] / total)});
  return out;
}

}  // namespace tessera
