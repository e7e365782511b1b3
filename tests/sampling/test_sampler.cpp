// Sampler and end tokens on CPU: greedy and its ties, top-k/top-p/min-p truncation sets and
// their llama.cpp order, temperature, repetition penalty, seeded reproducibility against an
// independent reimplementation of the documented draw, a chi-square test of the draw against
// known distributions, a full-size vocabulary, and the end-token set of a tokenizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/tools.h"
#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "runtime/sampling/end_tokens.h"
#include "runtime/sampling/sampler.h"
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {
namespace {

using Ids = std::vector<std::uint32_t>;

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (const double x : p) l.push_back(static_cast<float>(std::log(x)));
  return l;
}

SamplingParams params(float temperature, int top_k = 0, float top_p = 1.0f, float min_p = 0.0f) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  return p;
}

// Ids of the distribution, in its order (most likely first).
Ids ids_of(const std::vector<TokenProb>& d) {
  Ids out;
  for (const TokenProb& t : d) out.push_back(t.id);
  return out;
}

Ids survivors(const SamplingParams& p, const std::vector<float>& logits) {
  Sampler s(p, static_cast<std::uint32_t>(logits.size()));
  return ids_of(s.distribution(logits));
}

// sample_top on the top_needed() highest logits (as the GPU top-k gives them: logit descending,
// ties to the lower id) draws exactly what sample() draws on the full logits, step after step
// with the repetition penalty (above 1) pushing recent tokens out of the set; logits with many
// ties, -inf and NaN. top-k off and a penalty below 1 need the whole vocabulary.
TEST(Sampler, SampleTopMatchesSampleOnTheFullLogits) {
  constexpr std::uint32_t kVocab = 3000;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> level(-40, 40);
  for (const SamplingParams base : {params(0.0f), params(0.8f, 40), params(1.0f, 64, 0.9f, 0.05f), params(1.5f, 1)}) {
    for (const float penalty : {1.0f, 1.3f}) {
      SamplingParams p = base;
      p.repeat_penalty = penalty;
      p.repeat_last_n = 16;
      p.seed = 99;
      Sampler full(p, kVocab), top(p, kVocab);
      Ids recent;
      for (int step = 0; step < 40; ++step) {
        std::vector<float> logits(kVocab);
        for (float& l : logits) l = level(rng) / 8.0f;  // many exact ties
        // Recent tokens at the top of the raw logits, so the penalty moves them within the set.
        for (const std::uint32_t id : recent) logits[id] = 5.0f;
        logits[step % 50] = -std::numeric_limits<float>::infinity();
        logits[(step * 7) % 60] = std::numeric_limits<float>::quiet_NaN();
        const std::uint32_t need = top.top_needed();
        ASSERT_GT(need, 0u);
        std::vector<std::uint32_t> order(kVocab);
        for (std::uint32_t i = 0; i < kVocab; ++i) order[i] = i;
        const auto key = [&](std::uint32_t i) {
          return std::isnan(logits[i]) ? -std::numeric_limits<float>::infinity() : logits[i];
        };
        std::partial_sort(order.begin(), order.begin() + need, order.end(), [&](std::uint32_t a, std::uint32_t b) {
          return key(a) > key(b) || (key(a) == key(b) && a < b);
        });
        std::vector<TokenLogit> best;
        for (std::uint32_t i = 0; i < need; ++i) best.push_back({order[i], logits[order[i]]});
        const std::uint32_t want = full.sample(logits), got = top.sample_top(best);
        ASSERT_EQ(got, want) << "temperature " << p.temperature << " top_k " << p.top_k << " penalty " << penalty
                             << " step " << step;
        full.accept(want);
        top.accept(got);
        recent.push_back(want);
        if (recent.size() > 16) recent.erase(recent.begin());
      }
    }
  }
  Sampler off(params(1.0f), 10);
  EXPECT_EQ(off.top_needed(), 0u);
  EXPECT_THROW(off.sample_top(std::vector<TokenLogit>{{1, 0.5f}}), Error);
  SamplingParams raise = params(0.0f);
  raise.repeat_penalty = 0.5f;
  Sampler low(raise, 10);
  EXPECT_EQ(low.top_needed(), 1u);  // nothing seen yet
  low.accept(3);
  EXPECT_EQ(low.top_needed(), 0u);
  Sampler greedy(params(0.0f, 5), 10);
  EXPECT_THROW(greedy.sample_top({}), Error);
}

TEST(Sampler, GreedyIsArgmaxWithTiesToLowestId) {
  Sampler s(params(0.0f), 6);
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 2.0f, -3.0f, 1.9f, 0.0f, 2.0f - 1e-6f}), 1u);
  EXPECT_EQ(s.sample(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f, -1.0f, 4.0f}), 1u);
  EXPECT_EQ(s.sample(std::vector<float>{7.0f, 7.0f, 7.0f, 7.0f, 7.0f, 7.0f}), 0u);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(s.sample(std::vector<float>{nan, -1.0f, nan, -0.5f, nan, -2.0f}), 3u);
  const float ninf = -std::numeric_limits<float>::infinity();
  EXPECT_EQ(s.sample(std::vector<float>{ninf, ninf, ninf, ninf, -100.0f, ninf}), 4u);
  // Greedy ignores the seed and the truncation parameters.
  SamplingParams p = params(0.0f, 3, 0.5f, 0.5f);
  p.seed = 99;
  Sampler g(p, 6);
  EXPECT_EQ(g.sample(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f, -1.0f, 4.0f}), 1u);
  const std::vector<TokenProb> d = g.distribution(std::vector<float>{1.0f, 5.0f, 5.0f, 5.0f, -1.0f, 4.0f});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, 1u);
  EXPECT_EQ(d[0].p, 1.0f);
}

TEST(Sampler, TopK1MatchesGreedy) {
  std::mt19937_64 gen(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);  // only makes inputs, never compared across platforms
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::vector<float> logits(1000);
    for (float& l : logits) l = normal(gen);
    if (seed % 5 == 0) logits[seed * 7 % 1000] = logits[seed * 13 % 1000] = 50.0f;  // a tie at the top
    SamplingParams p = params(1.0f, 1);
    p.seed = seed;
    Sampler k1(p, 1000), greedy(params(0.0f), 1000);
    EXPECT_EQ(k1.sample(logits), greedy.sample(logits)) << "seed " << seed;
  }
}

TEST(Sampler, TopKKeepsTheKLargestTiesToLowerIds) {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, 2.0f, 0.5f, 3.0f};
  EXPECT_EQ(survivors(params(1.0f, 2), logits), (Ids{1, 2}));
  EXPECT_EQ(survivors(params(1.0f, 3), logits), (Ids{1, 2, 5}));
  EXPECT_EQ(survivors(params(1.0f, 4), logits), (Ids{1, 2, 5, 3}));
  EXPECT_EQ(survivors(params(1.0f, 6), logits).size(), 6u);
  EXPECT_EQ(survivors(params(1.0f, 100), logits).size(), 6u);  // k past the vocabulary: everything
  EXPECT_EQ(survivors(params(1.0f, 0), logits).size(), 6u);    // 0: off
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingP) {
  const std::vector<float> logits = log_probs({0.1, 0.4, 0.2, 0.3});  // order: 1, 3, 2, 0
  EXPECT_EQ(survivors(params(1.0f, 0, 0.35f), logits), (Ids{1}));
  EXPECT_EQ(survivors(params(1.0f, 0, 0.5f), logits), (Ids{1, 3}));
  EXPECT_EQ(survivors(params(1.0f, 0, 0.8f), logits), (Ids{1, 3, 2}));
  EXPECT_EQ(survivors(params(1.0f, 0, 0.95f), logits), (Ids{1, 3, 2, 0}));
  EXPECT_EQ(survivors(params(1.0f, 0, 1.0f), logits), (Ids{1, 3, 2, 0}));
  // The survivors are renormalised.
  Sampler s(params(1.0f, 0, 0.5f), 4);
  const std::vector<TokenProb> d = s.distribution(logits);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0].p, 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(d[1].p, 0.3 / 0.7, 1e-6);
}

TEST(Sampler, MinPKeepsTokensWithinAFactorOfTheBest) {
  const std::vector<float> logits = log_probs({0.15, 0.5, 0.05, 0.3});
  EXPECT_EQ(survivors(params(1.0f, 0, 1.0f, 0.2f), logits), (Ids{1, 3, 0}));  // p >= 0.1
  EXPECT_EQ(survivors(params(1.0f, 0, 1.0f, 0.5f), logits), (Ids{1, 3}));     // p >= 0.25
  EXPECT_EQ(survivors(params(1.0f, 0, 1.0f, 0.7f), logits), (Ids{1}));        // p >= 0.35
  EXPECT_EQ(survivors(params(1.0f, 0, 1.0f, 0.05f), logits), (Ids{1, 3, 0, 2}));
}

TEST(Sampler, TruncationRunsInLlamaCppOrder) {
  const std::vector<float> logits = log_probs({0.4, 0.3, 0.2, 0.1});
  // top-k first: top-p then sees {0.571, 0.429}, and 0.571 already reaches 0.55.
  EXPECT_EQ(survivors(params(1.0f, 2, 0.55f), logits), (Ids{0}));
  EXPECT_EQ(survivors(params(1.0f, 0, 0.55f), logits), (Ids{0, 1}));
  // top-p before min-p: top-p over all four keeps {0, 1}; min-p (p >= 0.24) keeps both. The
  // other order would renormalise over {0, 1} first and top-p would keep only 0.
  EXPECT_EQ(survivors(params(1.0f, 0, 0.5f, 0.6f), logits), (Ids{0, 1}));
  // Truncation on the untempered distribution, temperature after: at T = 2 top-p 0.65 would keep
  // three tokens (0.316, 0.274, 0.224), untempered it keeps two, then T = 2 reshapes them.
  Sampler s(params(2.0f, 0, 0.65f), 4);
  const std::vector<TokenProb> d = s.distribution(logits);
  ASSERT_EQ(ids_of(d), (Ids{0, 1}));
  const double a = std::sqrt(0.4), b = std::sqrt(0.3);
  EXPECT_NEAR(d[0].p, a / (a + b), 1e-6);
  EXPECT_NEAR(d[1].p, b / (a + b), 1e-6);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p = params(0.0f);
  p.repeat_penalty = 1.5f;
  p.repeat_last_n = 2;
  Sampler s(p, 4);
  const std::vector<float> pos = {2.0f, 1.9f, -1.0f, -1.2f};
  EXPECT_EQ(s.sample(pos), 0u);
  s.accept(0);
  EXPECT_EQ(s.sample(pos), 1u);  // 2.0 / 1.5 = 1.33 < 1.9
  s.accept(0);                   // twice in the window is still one penalty
  const std::vector<float> neg = {-1.0f, -1.2f, -5.0f, -6.0f};
  EXPECT_EQ(s.sample(neg), 1u);  // -1.0 * 1.5 = -1.5 < -1.2
  s.accept(2);
  s.accept(3);                   // the window (2) now holds {2, 3}: token 0 is free again
  EXPECT_EQ(s.sample(pos), 0u);
  EXPECT_EQ(s.sample(neg), 0u);
  s.accept(0);
  s.reset();                     // forgets the history
  EXPECT_EQ(s.sample(pos), 0u);

  // The distribution is the softmax of the penalised logits.
  SamplingParams q = params(1.0f);
  q.repeat_penalty = 2.0f;
  Sampler t(q, 3);
  t.accept(0);
  t.accept(2);
  const std::vector<TokenProb> d = t.distribution(std::vector<float>{2.0f, 1.5f, -0.5f});
  const double e0 = std::exp(1.0), e1 = std::exp(1.5), e2 = std::exp(-1.0), z = e0 + e1 + e2;
  ASSERT_EQ(ids_of(d), (Ids{1, 0, 2}));
  EXPECT_NEAR(d[0].p, e1 / z, 1e-6);
  EXPECT_NEAR(d[1].p, e0 / z, 1e-6);
  EXPECT_NEAR(d[2].p, e2 / z, 1e-6);

  // repeat_last_n 0 turns it off; -1 remembers everything.
  SamplingParams off = p;
  off.repeat_last_n = 0;
  Sampler o(off, 4);
  o.accept(0);
  EXPECT_EQ(o.sample(pos), 0u);
  SamplingParams all = p;
  all.repeat_last_n = -1;
  Sampler a(all, 4);
  a.accept(0);
  for (int i = 0; i < 1000; ++i) a.accept(3);
  EXPECT_EQ(a.sample(pos), 1u);
}

// The draw as sampler.h documents it, written independently: survivors most likely first (ties
// to lower ids) for sorted chains, p_i = exp((l_i - l_max) / T), u = (mt() >> 11) * 2^-53, the
// first index whose running sum exceeds u * sum.
std::uint32_t reference_draw(std::mt19937_64& mt, const std::vector<std::uint32_t>& order,
                             const std::vector<float>& logits, double temperature) {
  float lmax = -std::numeric_limits<float>::infinity();
  for (const std::uint32_t id : order) lmax = std::max(lmax, logits[id]);
  std::vector<double> w;
  double total = 0.0;
  for (const std::uint32_t id : order) total += w.emplace_back(std::exp((static_cast<double>(logits[id]) - lmax) / temperature));
  const double target = static_cast<double>(mt() >> 11) * 0x1.0p-53 * total;
  double cum = 0.0;
  for (std::size_t i = 0; i < order.size(); ++i)
    if (target < (cum += w[i])) return order[i];
  return order.back();
}

TEST(Sampler, SeededDrawsAreReproducibleAndFollowTheDocumentedDraw) {
  // mt19937_64 is fully specified: its 10000th output is fixed by the C++ standard.
  std::mt19937_64 check;
  check.discard(9999);
  ASSERT_EQ(check(), 9981545732273789042ull);

  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 1.0f, 0.0f, 1.5f, -0.5f, 0.25f};
  // Unsorted chain (temperature only): candidates in id order.
  SamplingParams p = params(0.8f);
  p.seed = 1234;
  Sampler a(p, 8), b(p, 8);
  std::mt19937_64 mt(1234);
  const Ids by_id = {0, 1, 2, 3, 4, 5, 6, 7};
  Ids first;
  for (int i = 0; i < 2000; ++i) {
    const std::uint32_t x = a.sample(logits);
    ASSERT_EQ(x, b.sample(logits)) << "draw " << i;
    ASSERT_EQ(x, reference_draw(mt, by_id, logits, 0.8)) << "draw " << i;
    if (i < 20) first.push_back(x);
  }
  a.reset();  // re-seeds
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(a.sample(logits), first[i]) << "after reset, draw " << i;
  p.seed = 1235;
  Sampler c(p, 8);
  Ids other;
  for (std::size_t i = 0; i < first.size(); ++i) other.push_back(c.sample(logits));
  EXPECT_NE(other, first) << "another seed gives another sequence";

  // Sorted chain (top-k 5): candidates most likely first.
  SamplingParams q = params(1.3f, 5);
  q.seed = 77;
  Sampler k(q, 8);
  std::mt19937_64 mk(77);
  const Ids sorted = {2, 5, 3, 0, 7};
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(k.sample(logits), reference_draw(mk, sorted, logits, 1.3)) << "draw " << i;
}

// Pearson chi-square of `n` draws against probabilities `p`.
double chi_square(Sampler& s, const std::vector<float>& logits, const std::vector<double>& p, int n) {
  std::vector<int> count(p.size(), 0);
  for (int i = 0; i < n; ++i) ++count[s.sample(logits)];
  double chi2 = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * n;
    chi2 += (count[i] - e) * (count[i] - e) / e;
  }
  return chi2;
}

TEST(Sampler, DrawsMatchTheDistribution) {
  // 5 categories, 4 degrees of freedom: P(chi2 > 18.47) = 0.001. The seeds are fixed, so the
  // test is deterministic; the bound of 25 is generous but a wrong draw (off-by-one in the
  // cumulative sum, a skipped renormalisation, the wrong temperature) lands far above it.
  const std::vector<double> p = {0.5, 0.25, 0.125, 0.0625, 0.0625};
  const std::vector<float> logits = log_probs(p);
  constexpr int kDraws = 100000;
  SamplingParams t1 = params(1.0f);
  t1.seed = 2024;
  Sampler s1(t1, 5);
  const double c1 = chi_square(s1, logits, p, kDraws);
  EXPECT_LT(c1, 25.0);

  // Temperature 2: p_i^(1/2), renormalised.
  std::vector<double> q;
  double z = 0.0;
  for (const double x : p) z += q.emplace_back(std::sqrt(x));
  for (double& x : q) x /= z;
  SamplingParams t2 = params(2.0f);
  t2.seed = 2025;
  Sampler s2(t2, 5);
  const double c2 = chi_square(s2, logits, q, kDraws);
  EXPECT_LT(c2, 25.0);
  // ... and is clearly not the temperature-1 distribution.
  Sampler s2b(t2, 5);
  EXPECT_GT(chi_square(s2b, logits, p, kDraws), 1000.0);

  // Top-p 0.8 keeps {0, 1, 2} and draws them as 4:2:1.
  SamplingParams t3 = params(1.0f, 0, 0.8f);
  t3.seed = 2026;
  Sampler s3(t3, 5);
  const double c3 = chi_square(s3, logits, {4.0 / 7, 2.0 / 7, 1.0 / 7 - 1e-12, 1e-12, 1e-12}, kDraws);
  EXPECT_LT(c3, 25.0);
  std::cout << "[sampler] chi-square over " << kDraws << " draws: T=1 " << c1 << ", T=2 " << c2 << ", top-p " << c3
            << " (bound 25)\n";
}

TEST(Sampler, FullSizeVocabulary) {
  // 262,144 logits spread so that top-p 0.9 needs thousands of tokens (past the first partial
  // sort), checked against a full sort; and the time per token of the common settings.
  constexpr std::uint32_t kVocab = 262144;
  std::mt19937_64 gen(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> logits(kVocab);
  for (float& l : logits) l = normal(gen);

  std::vector<std::uint32_t> order(kVocab);
  for (std::uint32_t i = 0; i < kVocab; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  double total = 0.0;
  for (const float l : logits) total += std::exp(static_cast<double>(l) - logits[order[0]]);
  double cum = 0.0;
  std::size_t keep = 0;
  while (cum < 0.9 * total) cum += std::exp(static_cast<double>(logits[order[keep++]]) - logits[order[0]]);
  ASSERT_GT(keep, 1024u);
  Sampler s(params(1.0f, 0, 0.9f), kVocab);
  const std::vector<TokenProb> d = s.distribution(logits);
  ASSERT_EQ(d.size(), keep);
  for (std::size_t i = 0; i < keep; ++i) ASSERT_EQ(d[i].id, order[i]) << "rank " << i;

  auto time_per_token = [&](SamplingParams p) {
    Sampler t(p, kVocab);
    const auto t0 = std::chrono::steady_clock::now();
    constexpr int kN = 20;
    for (int i = 0; i < kN; ++i) t.accept(t.sample(logits));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / kN;
  };
  SamplingParams typical = params(0.8f, 40, 0.95f, 0.05f);
  typical.repeat_penalty = 1.1f;
  const double ms_greedy = time_per_token(params(0.0f));
  const double ms_typical = time_per_token(typical);
  const double ms_top_p = time_per_token(params(1.0f, 0, 0.9f));
  const double ms_plain = time_per_token(params(1.0f));
  std::cout << "[sampler] ms per token over 262144 logits: greedy " << ms_greedy << ", top-k 40 + top-p + min-p + penalty "
            << ms_typical << ", top-p 0.9 alone " << ms_top_p << ", temperature alone " << ms_plain << "\n";
}

TEST(Sampler, RejectsBadInput) {
  EXPECT_THROW(Sampler(params(-1.0f), 4), Error);
  EXPECT_THROW(Sampler(params(1.0f, -1), 4), Error);
  EXPECT_THROW(Sampler(params(1.0f, 0, 0.0f), 4), Error);
  EXPECT_THROW(Sampler(params(1.0f, 0, 1.5f), 4), Error);
  EXPECT_THROW(Sampler(params(1.0f, 0, 1.0f, -0.1f), 4), Error);
  EXPECT_THROW(Sampler(params(1.0f, 0, 1.0f, 1.1f), 4), Error);
  SamplingParams p = params(1.0f);
  p.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(p, 4), Error);
  p = params(1.0f);
  p.repeat_last_n = -2;
  EXPECT_THROW(Sampler(p, 4), Error);
  EXPECT_THROW(Sampler(params(1.0f), 0), Error);

  Sampler s(params(1.0f), 4), g(params(0.0f), 4);
  EXPECT_THROW(s.sample(std::vector<float>{1.0f, 2.0f, 3.0f}), Error);
  EXPECT_THROW(g.sample(std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f, 5.0f}), Error);
  EXPECT_THROW(s.accept(4), Error);
  const float ninf = -std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(s.sample(std::vector<float>{ninf, nan, ninf, ninf}), Error);
  EXPECT_THROW(g.sample(std::vector<float>{ninf, nan, ninf, ninf}), Error);
  // +inf wins outright (no NaN from inf - inf); greedy takes the lowest id among several.
  const float inf = std::numeric_limits<float>::infinity();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(std::vector<float>{1.0f, inf, 2.0f, 3.0f}), 1u);
  EXPECT_EQ(g.sample(std::vector<float>{1.0f, inf, 2.0f, inf}), 1u);
  try {
    s.sample(std::vector<float>{1.0f});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[sampler]"), std::string::npos) << e.what();
  }
}

// A GGUF vocabulary of `n` tokens where the given ids carry the given texts.
Tokenizer vocab(std::uint32_t n, const std::vector<std::pair<std::uint32_t, std::string>>& named, std::int64_t eos,
                std::int64_t eot, const test::TempDir& dir) {
  std::vector<std::string> tokens;
  std::vector<std::int32_t> types;
  for (std::uint32_t i = 0; i < n; ++i) tokens.push_back("t" + std::to_string(i)), types.push_back(1);
  for (const auto& [id, text] : named) tokens[id] = text, types[id] = static_cast<std::int32_t>(TokenType::control);
  gguf::Writer w;
  w.set_string("general.architecture", "gemma4");
  w.set_string("tokenizer.ggml.model", "gemma4");
  w.set_array("tokenizer.ggml.tokens", tokens);
  w.set_array("tokenizer.ggml.token_type", types);
  w.set_array("tokenizer.ggml.merges", std::vector<std::string>{});
  if (eos >= 0) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(eos));
  if (eot >= 0) w.set_u32("tokenizer.ggml.eot_token_id", static_cast<std::uint32_t>(eot));
  w.begin(dir / "vocab.gguf");
  w.finish();
  return Tokenizer::from_gguf(gguf::File::open(dir / "vocab.gguf"));
}

TEST(EndTokens, UnionOfEosEotAndGemmaTurnEnd) {
  const test::TempDir dir;
  const std::vector<std::pair<std::uint32_t, std::string>> gemma = {{0, "<pad>"}, {1, "<eos>"}, {2, "<bos>"},
                                                                     {105, "<|turn>"}, {106, "<turn|>"}};
  // eos 1 only (most files), eos 106 only (some files), eos 1 + eot 106 (QAT files): all {1, 106}.
  EXPECT_EQ(end_tokens(vocab(200, gemma, 1, -1, dir)), (Ids{1, 106}));
  EXPECT_EQ(end_tokens(vocab(200, gemma, 106, -1, dir)), (Ids{1, 106}));
  EXPECT_EQ(end_tokens(vocab(200, gemma, 1, 106, dir)), (Ids{1, 106}));
  // Another vocabulary: only what its metadata names.
  EXPECT_EQ(end_tokens(vocab(50, {{7, "</s>"}}, 7, -1, dir)), (Ids{7}));
  EXPECT_EQ(end_tokens(vocab(50, {{7, "</s>"}, {9, "<|eot|>"}}, 7, 9, dir)), (Ids{7, 9}));
  EXPECT_TRUE(end_tokens(vocab(50, {}, -1, -1, dir)).empty());

  const StopSet stop = StopSet::from_tokenizer(vocab(200, gemma, 106, -1, dir));
  EXPECT_TRUE(stop.is_end(1));
  EXPECT_TRUE(stop.is_end(106));
  EXPECT_FALSE(stop.is_end(105));
  EXPECT_FALSE(stop.is_end(0));
  EXPECT_FALSE(stop.is_end(2));
  EXPECT_EQ(StopSet({106, 1, 106, 50}).ids(), (Ids{1, 50, 106}));
  EXPECT_FALSE(StopSet().is_end(0));
}

}  // namespace
}  // namespace tessera
