// Speculative decoding end to end (runtime/generate/spec_loop.h) on designed factory pairs
// (--markov: the target is a context-free Markov chain, the drafter reproduces its argmax up to
// --drafter-noise): greedy output identical to plain decoding over many prompts and draft lengths
// (rejected rows rolled back correctly, or later logits would differ), statistics that add up,
// acceptance that follows the noise knob, and with sampling the target's distribution (a
// chi-square test of the Markov transitions). Plus the draft-length policy on its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include "runtime/generate/generate.h"
#include "runtime/generate/spec_loop.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/mtp_drafter.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tests/common/gpu_test.h"
#include "tests/factory/temp_dir.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

struct Pair {
  test::TempDir dir;
  std::unique_ptr<Gemma4Model> model;
  std::unique_ptr<MtpDrafter> drafter;
  std::unique_ptr<Tokenizer> tok;
};

std::unique_ptr<Pair> make_pair(Context& c, double noise, std::uint64_t seed = 11) {
  auto p = std::make_unique<Pair>();
  factory::FactoryOptions fo;
  fo.type = factory::parse_type_choice("F16");
  fo.seed = seed;
  fo.pair.markov = true;
  fo.pair.drafter_noise = noise;
  factory::write_files(fo, factory::Kind::all, p->dir.path() / "t.gguf");
  ModelLoadOptions lo;
  lo.n_ctx = 256;
  lo.n_ubatch = 32;
  p->model = Gemma4Model::load(c, p->dir.path() / "t.gguf", lo);
  p->drafter = MtpDrafter::load(c, p->dir.path() / "t-drafter.gguf", *p->model);
  p->tok = std::make_unique<Tokenizer>(Tokenizer::from_gguf(p->model->file()));
  return p;
}

std::vector<std::uint32_t> prompt(std::uint32_t n, std::uint32_t vocab, std::uint32_t seed) {
  std::vector<std::uint32_t> ids(n);
  std::uint64_t s = seed * 2654435761u + 7;
  for (auto& id : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = 8 + static_cast<std::uint32_t>((s >> 33) % (vocab - 32));
  }
  ids[0] = 2;
  return ids;
}

struct GenRun {
  std::vector<std::uint32_t> tokens;
  GenerateStats st;
};

// One session (with hidden rows) and its drafting session per pair, reset between runs.
struct Runner {
  Gemma4Session session;
  MtpDraftSession ds;
  explicit Runner(const Pair& p) : session(*p.model, options()), ds(*p.drafter, session) {}
  static SessionOptions options() {
    SessionOptions so(256, 32);
    so.keep_hidden = true;
    return so;
  }
};

GenRun generate_with(const Pair& p, Runner& runner, std::span<const std::uint32_t> ids, std::uint32_t n,
                     SamplingParams sp, bool with_drafter, SpecOptions spec = {}) {
  runner.session.reset();
  Sampler sampler(sp, p.model->hparams().n_vocab);
  StopSet none;  // no end tokens: every run is exactly n tokens long
  GenerateOptions go;
  go.max_tokens = n;
  go.drafter = with_drafter ? &runner.ds : nullptr;
  go.spec = spec;
  GenRun r;
  r.st = generate(runner.session, *p.tok, sampler, none, ids, go, [&](std::uint32_t id, std::string_view) {
    if (r.tokens.size() < n) r.tokens.push_back(id);  // (not the detokenizer's final flush)
    return true;
  });
  return r;
}

// The statistics add up whatever the run did.
void check_stats(const SpecStats& s, std::uint32_t generated) {
  const auto sum = [](const std::vector<std::uint64_t>& v) { return std::accumulate(v.begin(), v.end(), std::uint64_t{0}); };
  EXPECT_EQ(sum(s.proposed_at), s.drafted);
  EXPECT_EQ(sum(s.accepted_at), s.accepted);
  EXPECT_EQ(sum(s.accepted_len), s.steps);
  std::uint64_t weighted = 0;
  for (std::size_t n = 0; n < s.accepted_len.size(); ++n) weighted += n * s.accepted_len[n];
  EXPECT_EQ(weighted, s.accepted);
  for (std::size_t i = 0; i < s.proposed_at.size(); ++i) {
    EXPECT_LE(s.accepted_at[i], s.proposed_at[i]);
    if (i > 0) {
      EXPECT_LE(s.proposed_at[i], s.proposed_at[i - 1]);
    }
  }
  // Every generated token is the first one, a plain step's, an accepted draft or a step's last
  // (bonus or correction) token; the final step may stop early (max tokens) after its drafts.
  EXPECT_LE(1 + s.plain_steps + s.accepted + s.steps, generated + 1);
  EXPECT_GE(1 + s.plain_steps + s.accepted + s.steps, generated);
}

class SpeculativeTest : public GpuTest {};

TEST_F(SpeculativeTest, GreedyOutputIsIdenticalToPlainDecoding) {
  for (const double noise : {0.0, 0.7}) {
    const auto p = make_pair(ctx(), noise);
    Runner runner(*p);
    const std::uint32_t vocab = p->model->hparams().n_vocab;
    for (std::uint32_t seed = 1; seed <= 2; ++seed) {
      const std::vector<std::uint32_t> ids = prompt(5 + 7 * seed, vocab, seed);
      const GenRun plain = generate_with(*p, runner, ids, 40, {}, false);
      ASSERT_EQ(plain.tokens.size(), 40u);
      for (const std::uint32_t k : {0u, 1u, 3u, 8u}) {  // 0: adaptive
        SpecOptions so;
        so.draft_fixed = k;
        const GenRun spec = generate_with(*p, runner, ids, 40, {}, true, so);
        EXPECT_EQ(spec.tokens, plain.tokens) << "noise " << noise << " prompt " << seed << " k " << k;
        check_stats(spec.st.spec, spec.st.generated);
        if (k > 0) {
          EXPECT_GT(spec.st.spec.steps, 0u);
        }
      }
    }
  }
}

TEST_F(SpeculativeTest, AcceptanceFollowsTheNoiseKnob) {
  std::vector<double> rates;
  for (const double noise : {0.0, 0.5, 3.0}) {
    const auto p = make_pair(ctx(), noise);
    Runner runner(*p);
    SpecOptions so;
    so.draft_fixed = 4;
    std::uint64_t drafted = 0, accepted = 0;
    for (std::uint32_t seed = 1; seed <= 3; ++seed) {
      const GenRun r = generate_with(*p, runner, prompt(9, p->model->hparams().n_vocab, seed), 48, {}, true, so);
      drafted += r.st.spec.drafted;
      accepted += r.st.spec.accepted;
    }
    rates.push_back(double(accepted) / double(drafted));
    std::printf("[drafter noise %.1f] greedy acceptance %.1f%% (%llu/%llu drafts, k = 4)\n", noise, 100 * rates.back(),
                static_cast<unsigned long long>(accepted), static_cast<unsigned long long>(drafted));
  }
  EXPECT_GE(rates[0], 0.95);
  for (std::size_t i = 1; i < rates.size(); ++i) EXPECT_LT(rates[i], rates[i - 1] + 0.02) << "noise step " << i;
  EXPECT_LT(rates.back(), rates.front() - 0.3);
}

// With sampling, speculative decoding must sample the target's distribution. The target is a
// Markov chain (its next-token distribution depends on the last token only), so each transition
// prev -> next that a verify step produced is a draw from p(. | prev). Many short runs from one
// prompt (reseeded) visit a few states often; per frequent state a chi-square test against the
// target's own distribution (Sampler::distribution of its logits), summed over states.
TEST_F(SpeculativeTest, SamplingKeepsTheTargetDistribution) {
  const auto p = make_pair(ctx(), 0.3);
  const std::uint32_t vocab = p->model->hparams().n_vocab;
  SamplingParams sp;
  sp.temperature = 1.5f;
  sp.top_k = 4;
  SessionOptions opts(64, 16);
  opts.keep_hidden = true;
  Gemma4Session session(*p->model, opts);
  MtpDraftSession ds(*p->drafter, session);
  GenerateOptions go;
  go.max_tokens = 5;
  go.drafter = &ds;
  go.spec.draft_fixed = 3;
  StopSet none;
  const std::vector<std::uint32_t> ids = prompt(6, vocab, 42);
  std::map<std::uint32_t, std::map<std::uint32_t, std::uint32_t>> counts;  // prev -> next -> n
  std::uint64_t drafted = 0, accepted = 0;
  for (std::uint32_t run = 0; run < 240; ++run) {
    sp.seed = 1000 + run;
    Sampler sampler(sp, vocab);
    session.reset();
    std::vector<std::uint32_t> out;
    const GenerateStats st = generate(session, *p->tok, sampler, none, ids, go, [&](std::uint32_t id, std::string_view) {
      if (out.size() < go.max_tokens) out.push_back(id);
      return true;
    });
    drafted += st.spec.drafted;
    accepted += st.spec.accepted;
    for (std::size_t i = 1; i < out.size(); ++i) ++counts[out[i - 1]][out[i]];  // out[0]: the prompt's plain sample
  }
  ASSERT_GT(accepted, 0u);
  ASSERT_LT(accepted, drafted);  // both branches of the verification ran
  Gemma4Session plain(*p->model, {64, 16});
  Sampler dist(sp, vocab);
  double chi2 = 0;
  int dof = 0, tested = 0;
  for (const auto& [prev, next] : counts) {
    std::uint32_t n = 0;
    for (const auto& [t, c] : next) n += c;
    if (n < 40) continue;
    plain.reset();
    const std::uint32_t ctx_ids[] = {2, prev};  // context-free: one token of context is enough
    const std::vector<TokenProb> pd = dist.distribution(plain.decode(ctx_ids));
    double pooled_e = 0, pooled_o = 0;  // bins with an expected count under 5, pooled
    int bins = 0;
    std::uint32_t seen = 0;
    for (const TokenProb& tp : pd) {
      const double e = tp.p * n;
      const auto it = next.find(tp.id);
      const double o = it == next.end() ? 0 : it->second;
      seen += static_cast<std::uint32_t>(o);
      if (e >= 5) {
        chi2 += (o - e) * (o - e) / e;
        ++bins;
      } else {
        pooled_e += e, pooled_o += o;
      }
    }
    EXPECT_EQ(seen, n) << "state " << prev << ": a token outside the target's top-k was emitted";
    if (pooled_e >= 5) chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e, ++bins;
    dof += bins - 1;
    ++tested;
  }
  ASSERT_GE(tested, 2) << "too few frequent states to test";
  ASSERT_GE(dof, 3);
  // Wilson-Hilferty: the chi-square quantile at p = 0.001 (z = 3.09).
  const double z = 3.09, a = 2.0 / (9.0 * dof);
  const double critical = dof * std::pow(1 - a + z * std::sqrt(a), 3);
  std::printf("[sampling T 1.5 top-k 4, noise 0.3, k = 3] %d states, chi2 %.1f on %d dof (critical %.1f at "
              "p = 0.001); acceptance %.1f%%\n",
              tested, chi2, dof, critical, 100.0 * double(accepted) / double(drafted));
  EXPECT_LT(chi2, critical);
}

TEST(DraftLengthPolicy, PicksPlainDecodingWhenDraftsAreRejectedAndLongDraftsWhenCheap) {
  DraftLengthPolicy bad(8);
  EXPECT_EQ(bad.choose(8), 0u);  // no decode measured yet
  bad.plain_step(10.0);
  for (int i = 0; i < 40; ++i) bad.verify_step(2, 0, 2.0, 12.0);
  EXPECT_EQ(bad.choose(8), 0u);
  DraftLengthPolicy good(8);
  good.plain_step(10.0);
  for (std::uint32_t k = 1; k <= 8; ++k) good.verify_step(k, k, 0.5 * k, 10.5 + 0.1 * k);  // near-free verify
  for (int i = 0; i < 40; ++i) good.verify_step(8, 8, 4.0, 11.3);
  EXPECT_GE(good.choose(8), 6u);
  EXPECT_LE(good.choose(3), 3u);
  // Expensive verifies (a k-row batch costing k decodes): drafting never pays.
  DraftLengthPolicy costly(8);
  costly.plain_step(10.0);
  for (std::uint32_t k = 1; k <= 8; ++k)
    for (int i = 0; i < 10; ++i) costly.verify_step(k, k / 2, 1.0 * k, 10.0 * (k + 1));
  EXPECT_EQ(costly.choose(8), 0u);
}

}  // namespace
}  // namespace tessera
