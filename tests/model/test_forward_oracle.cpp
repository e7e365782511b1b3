// The GPU forward pass against the independent CPU oracle (tests/common/reference_forward.h) on
// factory models: prompts longer than the sliding window and than the ring of the sliding
// layers' KV cache, prefill split into ubatches, single-token decode, rollback. Per case the max
// abs logit error and the top-1 agreement over all positions are printed and bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "runtime/model/gemma4_model.h"
#include "tests/common/gpu_test.h"
#include "tests/common/reference_forward.h"
#include "tests/common/tools.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

struct Agreement {
  double max_abs = 0;
  std::size_t top1_same = 0, rows = 0;
};

std::size_t argmax(const float* v, std::size_t n) { return std::max_element(v, v + n) - v; }

// Compares rows of logits [rows, vocab]; -inf (suppressed) must match exactly.
Agreement compare(const std::vector<float>& got, const std::vector<float>& want, std::size_t vocab) {
  Agreement a;
  a.rows = want.size() / vocab;
  for (std::size_t r = 0; r < a.rows; ++r) {
    for (std::size_t i = 0; i < vocab; ++i) {
      const float g = got[r * vocab + i], w = want[r * vocab + i];
      if (std::isinf(w) || std::isinf(g)) a.max_abs = g == w ? a.max_abs : INFINITY;
      else a.max_abs = std::max(a.max_abs, double(std::fabs(g - w)));
    }
    a.top1_same += argmax(&got[r * vocab], vocab) == argmax(&want[r * vocab], vocab);
  }
  return a;
}

std::vector<std::uint32_t> prompt(std::size_t n, std::uint32_t vocab, std::uint32_t seed) {
  std::vector<std::uint32_t> ids(n);
  std::uint64_t s = seed * 2654435761u + 1;
  for (auto& id : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<std::uint32_t>((s >> 33) % vocab);
  }
  ids[0] = 2;  // <bos>
  return ids;
}

// A factory model (preset, type, seed) loaded on `c` for n_ctx / n_ubatch, with its CPU oracle
// when asked. The file is deleted once loaded: the weights live on the device, the oracle's in RAM.
struct TestModel {
  std::unique_ptr<Gemma4Model> model;
  std::optional<ref::ReferenceModel> oracle;
};
TestModel factory_model(Context& c, const char* preset, const char* type, std::uint64_t seed, std::uint32_t n_ctx,
                        std::uint32_t n_ubatch, bool with_oracle, std::uint64_t max_chunk = 0) {
  test::TempDir dir;
  factory::FactoryOptions fo;
  fo.preset = factory::preset_by_name(preset);
  fo.type = factory::parse_type_choice(type);
  fo.seed = seed;
  const auto path = dir.path() / "m.gguf";
  factory::write_model(fo, path);
  TestModel m;
  if (with_oracle) m.oracle.emplace(ref::ReferenceModel::load(path));
  ModelLoadOptions lo;
  lo.n_ctx = n_ctx;
  lo.n_ubatch = n_ubatch;
  lo.max_chunk = max_chunk;
  m.model = Gemma4Model::load(c, path, lo);
  return m;
}

struct Case {
  const char* preset;
  const char* type;
  std::size_t n_prompt;    // tokens prefilled (all logits compared)
  std::size_t n_decode;    // then decoded one by one
  std::uint32_t n_ctx, n_ubatch;
  double max_abs;          // bound on |gpu - ref| over all logits
  double min_top1;         // bound on the top-1 agreement rate
  ops::KvType kv = ops::KvType::f16;
};

class ForwardOracleTest : public GpuTest, public ::testing::WithParamInterface<Case> {};

TEST_P(ForwardOracleTest, GpuLogitsMatchTheCpuReference) {
  const Case c = GetParam();
  // max_chunk forces multi-chunk weights (the 262144-row head is split on real models).
  const TestModel tm = factory_model(ctx(), c.preset, c.type, 7, c.n_ctx, c.n_ubatch, true, 64 << 10);
  const ref::ReferenceModel& oracle = *tm.oracle;
  const auto& model = tm.model;
  const std::uint32_t vocab = model->hparams().n_vocab;
  Gemma4Session session(*model, {c.n_ctx, c.n_ubatch, c.kv});
  const auto ids = prompt(c.n_prompt + c.n_decode, vocab, 11);
  const std::vector<float> want = oracle.forward(ids);

  std::vector<float> got = session.decode(std::span(ids).first(c.n_prompt), true);
  for (std::size_t i = c.n_prompt; i < ids.size(); ++i) {
    const std::vector<float> row = session.decode(std::span(ids).subspan(i, 1));
    got.insert(got.end(), row.begin(), row.end());
  }
  const Agreement a = compare(got, want, vocab);
  if (std::getenv("TESSERA_ORACLE_ROWS"))
    for (std::size_t r = 0; r < ids.size(); ++r) {
      const Agreement e = compare(std::vector<float>(got.begin() + r * vocab, got.begin() + (r + 1) * vocab),
                                  std::vector<float>(want.begin() + r * vocab, want.begin() + (r + 1) * vocab), vocab);
      std::printf("  pos %zu: max %.3g top1 %zu\n", r, e.max_abs, e.top1_same);
    }
  const double top1 = double(a.top1_same) / a.rows;
  std::printf("[%s %s, %s KV] %zu positions (window %u, ring %u cells): max |gpu - ref| = %.3g, top-1 agreement %.1f%%\n",
              c.preset, c.type, ops::kv_type_name(c.kv), a.rows, model->hparams().sliding_window, session.kv_cache().plan().sliding_cells,
              a.max_abs, 100 * top1);
  EXPECT_LE(a.max_abs, c.max_abs);
  EXPECT_GE(top1, c.min_top1);

  // Rollback: forget the last 5 positions and decode them again: the same logits.
  session.rollback(session.n_past() - 5);
  const std::vector<float> again = session.decode(std::span(ids).last(5), true);
  const Agreement b = compare(again, std::vector<float>(got.end() - 5 * vocab, got.end()), vocab);
  // The 5 rows now go as one batch (other key slices, summation order: f32 noise); bit-level
  // differences of their K/V rows can also flip a Q8_0 rounding step.
  EXPECT_LE(b.max_abs, c.kv == ops::KvType::q8_0 ? 2e-2 : 1e-4) << "logits after a rollback differ";
}

// The whole model under the most restrictive profile (no subgroup arithmetic: shared-memory
// reductions everywhere, small workgroups, no fp16/int8 features) still matches the oracle.
class ForwardProfileTest : public GpuTest {};

TEST_F(ForwardProfileTest, MinimalProfileMatchesTheCpuReference) {
  EngineOptions opts = env_options();
  opts.profile = "minimal";
  const std::unique_ptr<Context> minimal = make_context(opts);
  const TestModel tm = factory_model(*minimal, "tiny", "Q4_0", 9, 64, 16, true);
  const ref::ReferenceModel& oracle = *tm.oracle;
  const auto& model = tm.model;
  Gemma4Session session(*model, {64, 16});
  const auto ids = prompt(40, model->hparams().n_vocab, 3);
  const std::vector<float> got = session.decode(ids, true);
  const Agreement a = compare(got, oracle.forward(ids), model->hparams().n_vocab);
  std::printf("[minimal profile, tiny Q4_0] max |gpu - ref| = %.3g, top-1 %zu/%zu\n", a.max_abs, a.top1_same, a.rows);
  EXPECT_LE(a.max_abs, 2e-2);
  EXPECT_GE(a.top1_same, a.rows - 1);
  EXPECT_TRUE(validation_clean(*minimal));
}

// decode_top: the GPU's top logits of the last token are the highest of decode()'s full logits
// (suppressed tokens excluded), in order, with the same values; the cache advances the same.
TEST_F(ForwardProfileTest, DecodeTopIsTheHeadOfTheFullLogits) {
  const auto model = factory_model(ctx(), "tiny", "Q8_0", 4, 64, 8, false).model;
  const std::uint32_t vocab = model->hparams().n_vocab;
  Gemma4Session full(*model, {64, 8}), top(*model, {64, 8});
  const auto ids = prompt(20, vocab, 5);  // three ubatches
  for (const std::uint32_t n : {1u, 40u, top.top_logits_max()}) {
    full.reset();
    top.reset();
    const std::vector<float> logits = full.decode(ids);
    const std::vector<TokenLogit> got = top.decode_top(ids, n);
    EXPECT_EQ(top.n_past(), full.n_past());
    std::vector<std::uint32_t> order(vocab);
    for (std::uint32_t i = 0; i < vocab; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return logits[a] > logits[b]; });
    const std::uint32_t want_n = std::min<std::uint32_t>(n, vocab - model->suppressed_tokens().size());
    ASSERT_EQ(got.size(), want_n) << "n=" << n;
    for (std::uint32_t i = 0; i < want_n; ++i) {
      ASSERT_EQ(got[i].id, order[i]) << "n=" << n << " rank " << i;
      ASSERT_EQ(got[i].logit, logits[order[i]]) << "n=" << n << " rank " << i;
    }
  }
  EXPECT_THROW(top.decode_top(ids, 0), Error);
  EXPECT_THROW(top.decode_top(ids, top.top_logits_max() + 1), Error);
}

// Attention capture: one map per captured layer and ubatch, each row a probability distribution
// over its visible keys only (causal, the window), and the logits the same as without capture.
TEST_F(ForwardProfileTest, CapturedAttentionMapsAreTheRowsSoftmax) {
  const auto model = factory_model(ctx(), "tiny", "F16", 6, 128, 32, false).model;
  const Gemma4HParams& hp = model->hparams();
  std::uint32_t global = 0;
  while (hp.layer(global).is_sliding) ++global;
  const AttentionCaptureOptions cap{(1ull << 0) | (1ull << global), 0b101, 4096};
  Gemma4Session plain(*model, {128, 32}), captured(*model, {128, 32, ops::KvType::f16, cap});
  const auto ids = prompt(40, hp.n_vocab, 8);  // two ubatches: 32 rows, then 8 at position 32
  EXPECT_EQ(plain.decode(ids, true), captured.decode(ids, true));
  const std::vector<AttentionMap>& maps = captured.attention_maps();  // of the second ubatch
  ASSERT_EQ(maps.size(), 2u);
  for (const AttentionMap& m : maps) {
    const std::uint32_t window = hp.layer(m.layer).is_sliding ? hp.sliding_window : 0;
    EXPECT_EQ(m.rows, 8u);
    EXPECT_EQ(m.heads, 2u);
    EXPECT_EQ(m.key_hi, 39u);
    EXPECT_EQ(m.key_lo, window ? 32 + 1 - window : 0u);
    ASSERT_EQ(m.bins, m.key_hi - m.key_lo + 1);  // one column per key
    for (std::uint32_t t = 0; t < m.rows; ++t)
      for (std::uint32_t c = 0; c < m.heads; ++c) {
        const std::uint32_t pq = 32 + t;
        double sum = 0;
        for (std::uint32_t k = m.key_lo; k <= m.key_hi; ++k) {
          const float p = m.p[(std::size_t{t} * m.heads + c) * m.bins + (k - m.key_lo)];
          const bool visible = k <= pq && (window == 0 || k + window > pq);
          if (!visible) {
            EXPECT_EQ(p, 0.0f) << "layer " << m.layer << " row " << t << " key " << k;
          }
          EXPECT_GE(p, 0.0f);
          sum += p;
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << "layer " << m.layer << " row " << t;
      }
  }
  EXPECT_TRUE(plain.attention_maps().empty());
  EXPECT_THROW(Gemma4Session(*model, {128, 32, ops::KvType::f16, {1ull << 40, 1, 16}}), Error);
}

// A KV cache too large for one binding (forced small here) is kept in two chunks per layer: the
// same logits, bit for bit, as one buffer, across the ring's wrap-around.
TEST_F(ForwardProfileTest, ChunkedKvCacheGivesTheSameLogits) {
  const auto model = factory_model(ctx(), "tiny", "F16", 12, 384, 32, false).model;
  SessionOptions chunked(384, 32);
  chunked.max_kv_binding = 24 << 10;  // both the 256-cell ring (32 KiB) and the 384-cell global cache
  Gemma4Session plain(*model, {384, 32}), split(*model, chunked);
  for (std::uint32_t il = 0; il < model->hparams().n_layer; ++il)
    EXPECT_LT(split.kv_cache().layer(il).chunk_cells, split.kv_cache().layer(il).cells) << "layer " << il;
  const auto ids = prompt(300, model->hparams().n_vocab, 2);
  EXPECT_EQ(plain.decode(ids, true), split.decode(ids, true));
  EXPECT_EQ(plain.decode(std::span(ids).first(1)), split.decode(std::span(ids).first(1)));
  chunked.max_kv_binding = 8 << 10;  // two chunks are not enough: a clear error
  EXPECT_THROW(Gemma4Session(*model, chunked), Error);
}

// Bidirectional blocks (image soft tokens): on sliding layers a block's tokens see each other,
// later ones included; global layers stay causal. Against the oracle with the same blocks: one
// block inside a ubatch, one the 32-token ubatch cut would split (the ubatch ends before it), one
// longer than the window (16) whose early keys fall out of its later tokens' window.
TEST_F(ForwardProfileTest, BidirectionalBlocksMatchTheCpuReference) {
  const TestModel tm = factory_model(ctx(), "tiny", "F16", 13, 128, 32, true);
  const ref::ReferenceModel& oracle = *tm.oracle;
  const auto& model = tm.model;
  const std::uint32_t vocab = model->hparams().n_vocab;
  const auto ids = prompt(70, vocab, 21);
  const std::vector<TokenBlock> blocks = {{5, 15}, {28, 40}, {44, 66}};
  const std::vector<ref::Block> ref_blocks = {{5, 15}, {28, 40}, {44, 66}};
  Gemma4Session session(*model, {128, 32});
  const std::vector<float> got = session.decode(ids, true, blocks);
  const std::vector<float> want = oracle.forward(ids, ref_blocks);
  const Agreement a = compare(got, want, vocab);
  const Agreement causal = compare(want, oracle.forward(ids), vocab);
  std::printf("[bidirectional blocks] max |gpu - ref| = %.3g, top-1 %zu/%zu; the blocks move the logits by %.3g\n",
              a.max_abs, a.top1_same, a.rows, causal.max_abs);
  EXPECT_LE(a.max_abs, 2e-2);
  EXPECT_GE(a.top1_same, a.rows - 2);
  EXPECT_GT(causal.max_abs, 10 * a.max_abs) << "the blocks should change the logits";

  session.reset();
  const std::vector<TokenBlock> too_long = {{0, 33}};
  EXPECT_THROW(session.decode(ids, false, too_long), Error);
  const std::vector<TokenBlock> unsorted = {{20, 30}, {5, 10}};
  EXPECT_THROW(session.decode(ids, false, unsorted), Error);
  EXPECT_EQ(session.n_past(), 0u);
}

// The ring of the sliding layers is pad256(window + ubatch) cells: 256 for these cases, so the
// 300-token prompts wrap it, and the tiny window (16) / small window (64) are crossed many times.
INSTANTIATE_TEST_SUITE_P(Types, ForwardOracleTest,
                         ::testing::Values(Case{"tiny", "F32", 290, 10, 512, 64, 2e-2, 0.97},
                                           Case{"tiny", "F16", 290, 10, 512, 100, 2e-2, 0.97},
                                           Case{"tiny", "Q8_0", 290, 10, 512, 128, 2e-2, 0.97},
                                           Case{"tiny", "Q4_0", 290, 10, 512, 64, 2e-2, 0.97},
                                           Case{"small", "Q4_K_M", 100, 4, 320, 48, 5e-2, 0.97},
                                           // A Q8_0 KV cache: keys and values rounded to 8 bits.
                                           Case{"tiny", "Q8_0", 290, 10, 512, 128, 0.2, 0.9, ops::KvType::q8_0}),
                         [](const auto& info) {
                           return std::string(info.param.preset) + "_" + info.param.type +
                                  (info.param.kv == ops::KvType::q8_0 ? "_kv_q8_0" : "");
                         });

}  // namespace
}  // namespace tessera
