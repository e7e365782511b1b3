// The simple attention path against CPU references: head_norm_rope.comp (QK-norm + NeoX RoPE,
// full and partial rotation), kv_store.comp (f16 ring writes) and attention.comp (causal, sliding
// window over a ring, GQA/MQA, several key tiles), under every device profile.
#include <algorithm>
#include <cmath>

#include "engine/half.h"
#include "engine/ops/head_norm_rope.h"
#include "engine/ops/kv_cache_ops.h"
#include "tests/ops/ops_test.h"
#include "tests/ops/reference.h"

namespace tessera::test {
namespace {

using AttentionTest = OpsTest;

// x: [tokens, heads, hd]; cs: [tokens, n_rot] (cos, sin).
std::vector<float> ref_head_norm_rope(std::vector<float> x, const std::vector<float>* w, const std::vector<float>& cs,
                                      std::uint32_t tokens, std::uint32_t heads, std::uint32_t hd,
                                      std::uint32_t n_rot) {
  x = ref::rms_norm(x, w, tokens * heads, hd, 1e-6f);
  for (std::uint32_t t = 0; t < tokens; ++t)
    for (std::uint32_t h = 0; h < heads; ++h)
      for (std::uint32_t j = 0; j < n_rot; ++j) {
        float* row = &x[(std::size_t{t} * heads + h) * hd];
        const double c = cs[(t * n_rot + j) * 2], s = cs[(t * n_rot + j) * 2 + 1];
        const double a = row[j], b = row[j + hd / 2];
        row[j] = float(a * c - b * s);
        row[j + hd / 2] = float(b * c + a * s);
      }
  return x;
}

TEST_P(AttentionTest, HeadNormRopeFullPartialAndNoRotation) {
  struct Case {
    std::uint32_t tokens, heads, hd, n_rot;
    bool weight;
  };
  for (const Case c : {Case{1, 1, 8, 4, true}, Case{3, 2, 32, 16, false}, Case{2, 4, 256, 128, true},
                       Case{3, 3, 512, 64, true}, Case{2, 2, 64, 0, true}}) {
    const std::size_t n = std::size_t{c.tokens} * c.heads * c.hd;
    const auto x = random_floats(n, c.hd + c.n_rot, -3.0f, 3.0f);
    const auto w = random_floats(c.hd, 7, 0.5f, 1.5f);
    std::vector<float> cs(std::max<std::size_t>(2ull * c.tokens * c.n_rot, 2));
    const auto angles = random_floats(cs.size() / 2, 9, -100.0f, 100.0f);
    for (std::size_t i = 0; i < angles.size(); ++i) {
      cs[2 * i] = std::cos(angles[i]);
      cs[2 * i + 1] = std::sin(angles[i]);
    }
    Buffer bx = upload_vec(x), bw = upload_vec(w), bcs = upload_vec(cs);
    run([&](Context& ctx, CommandList& cmd) {
      ops::head_norm_rope(ctx, cmd, {&bx}, c.weight ? std::optional<BufferRange>(BufferRange{&bw}) : std::nullopt,
                          {&bcs}, c.tokens, c.heads, c.hd, c.n_rot, 1e-6f);
    });
    const auto want = ref_head_norm_rope(x, c.weight ? &w : nullptr, cs, c.tokens, c.heads, c.hd, c.n_rot);
    EXPECT_TRUE(all_close(download_f32(bx, n), want, kNorm,
                          "hd " + std::to_string(c.hd) + " n_rot " + std::to_string(c.n_rot)));
  }
}

TEST_P(AttentionTest, KvStoreWritesF16RowsIntoTheRing) {
  const std::uint32_t width = 6, cells = 4, m = 3, pos0 = 5;  // rows land in cells 1, 2, 3
  std::vector<std::uint16_t> init(cells * width, fp32_to_fp16(-7.0f));
  const auto src = random_floats(std::size_t{m} * width, 3);
  Buffer bsrc = upload_vec(src), bcache = upload_vec(init);
  run([&](Context& ctx, CommandList& cmd) { ops::kv_store(ctx, cmd, {&bsrc}, {&bcache}, m, width, pos0, cells); });
  std::vector<std::uint16_t> got(cells * width);
  download(*ctx_, BufferRange{&bcache, 0, got.size() * 2}, std::as_writable_bytes(std::span(got)));
  for (std::uint32_t cell = 0; cell < cells; ++cell)
    for (std::uint32_t i = 0; i < width; ++i) {
      const std::uint32_t t = (cell + cells - pos0 % cells) % cells;  // row stored in this cell
      const float want = t < m ? round_fp16(src[t * width + i]) : -7.0f;
      EXPECT_EQ(fp16_to_fp32(got[cell * width + i]), want) << "cell " << cell << " elem " << i;
    }
  // Wrap-around: rows 3..5 of positions 7..9 go to cells 3, 0, 1.
  run([&](Context& ctx, CommandList& cmd) { ops::kv_store(ctx, cmd, {&bsrc}, {&bcache}, m, width, 7, cells); });
  download(*ctx_, BufferRange{&bcache, 0, got.size() * 2}, std::as_writable_bytes(std::span(got)));
  EXPECT_EQ(fp16_to_fp32(got[0 * width + 2]), round_fp16(src[1 * width + 2]));
  EXPECT_EQ(fp16_to_fp32(got[3 * width + 5]), round_fp16(src[0 * width + 5]));
}

// Exact attention in double over f16-rounded K/V: q [m, H, hd], caches [cells, Hkv, hd].
std::vector<float> ref_attention(const ops::AttentionShape& s, const std::vector<float>& q,
                                 const std::vector<float>& k, const std::vector<float>& v) {
  const std::uint32_t hd = s.head_dim, group = s.n_head / s.n_kv_head;
  std::vector<float> o(q.size());
  for (std::uint32_t t = 0; t < s.m; ++t)
    for (std::uint32_t h = 0; h < s.n_head; ++h) {
      const std::uint32_t pq = s.pos0 + t, kvh = h / group;
      const std::uint32_t lo = s.window != 0 && pq + 1 > s.window ? pq + 1 - s.window : 0;
      std::vector<double> sc;
      for (std::uint32_t pk = lo; pk <= pq; ++pk) {
        double d = 0;
        for (std::uint32_t i = 0; i < hd; ++i)
          d += double(q[(t * s.n_head + h) * hd + i]) * k[((pk % s.cells) * s.n_kv_head + kvh) * hd + i];
        sc.push_back(d * s.scale);
      }
      const double mx = *std::max_element(sc.begin(), sc.end());
      double sum = 0;
      for (double& x : sc) sum += (x = std::exp(x - mx));
      for (std::uint32_t i = 0; i < hd; ++i) {
        double acc = 0;
        for (std::uint32_t pk = lo; pk <= pq; ++pk)
          acc += sc[pk - lo] * v[((pk % s.cells) * s.n_kv_head + kvh) * hd + i];
        o[(t * s.n_head + h) * hd + i] = float(acc / sum);
      }
    }
  return o;
}

TEST_P(AttentionTest, CausalSlidingRingGqaAndMqa) {
  std::vector<ops::AttentionShape> cases = {
      {8, 4, 2, 1, 0, 4, 0, 1.0f},        // first token: one key
      {32, 4, 2, 5, 10, 16, 0, 0.5f},      // causal prefill chunk, GQA 2:1
      {32, 4, 2, 4, 20, 12, 8, 1.0f},      // sliding window 8 over a ring of 12 (wrapped)
      {64, 2, 2, 3, 1, 8, 8, 1.0f},        // window larger than the history
      {512, 4, 1, 2, 300, 302, 0, 0.05f},  // MQA, global-layer head dim, several key tiles
      {256, 4, 2, 1, 700, 1024, 0, 0.1f},  // decode at 700
      {256, 2, 1, 2, 1030, 1040, 1024, 0.1f},  // window edge: 1024 keys visible
  };
  for (const ops::AttentionShape& s : cases) {
    const std::size_t nq = std::size_t{s.m} * s.n_head * s.head_dim, nc = std::size_t{s.cells} * s.n_kv_head * s.head_dim;
    const auto q = random_floats(nq, s.head_dim + s.m, -1.0f, 1.0f);
    auto k = random_floats(nc, 2 * s.pos0 + 1, -1.0f, 1.0f), v = random_floats(nc, 3 * s.pos0 + 2, -2.0f, 2.0f);
    std::vector<std::uint16_t> k16(nc), v16(nc);
    for (std::size_t i = 0; i < nc; ++i) {
      k16[i] = fp32_to_fp16(k[i]);
      v16[i] = fp32_to_fp16(v[i]);
      k[i] = fp16_to_fp32(k16[i]);
      v[i] = fp16_to_fp32(v16[i]);
    }
    Buffer bq = upload_vec(q), bk = upload_vec(k16), bv = upload_vec(v16), bo = make(4 * nq);
    run([&](Context& ctx, CommandList& cmd) { ops::attention(ctx, cmd, s, {&bq}, {&bk}, {&bv}, {&bo}); });
    EXPECT_TRUE(all_close(download_f32(bo, nq), ref_attention(s, q, k, v), Tolerance{2e-5, 1e-4},
                          "hd " + std::to_string(s.head_dim) + " m " + std::to_string(s.m) + " pos0 " +
                              std::to_string(s.pos0) + " window " + std::to_string(s.window)));
  }
}

TEST_P(AttentionTest, RejectsKeysOutsideTheRing) {
  Buffer b = make(1 << 16);
  const ops::AttentionShape s{32, 4, 2, 4, 20, 8, 8, 1.0f};  // needs 8 + 3 = 11 cells
  cmd_->begin();
  try {
    ops::attention(*ctx_, *cmd_, s, {&b}, {&b}, {&b}, {&b});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("span 11 positions but the cache holds 8"), std::string::npos) << e.what();
  }
}

}  // namespace

TESSERA_INSTANTIATE_PROFILES(AttentionTest);

}  // namespace tessera::test
