// The attention path against CPU references, under every device profile: head_norm_rope.comp
// (QK-norm + NeoX RoPE, full and partial rotation), kv_store.comp (f16 and Q8_0 ring writes),
// flash_attn.comp + flash_attn_reduce.comp (causal, sliding window over a ring, bidirectional
// blocks, GQA/MQA, head dims up to 512, split-K, f16 and Q8_0 caches) and attn_capture.comp.
#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>

#include "engine/half.h"
#include "engine/ops/head_norm_rope.h"
#include "engine/ops/attention.h"
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

TEST_P(AttentionTest, KvStoreQuantizesQ8_0BlocksIntoTheRing) {
  const std::uint32_t width = 64, cells = 3, m = 2, pos0 = 2;  // rows land in cells 2, 0
  auto src = random_floats(std::size_t{m} * width, 11, -3.0f, 3.0f);
  for (std::uint32_t i = 32; i < 64; ++i) src[i] = 0.0f;  // an all-zero block: scale 0
  src[70] = -5.0f;                                          // the block's max is negative
  std::vector<std::uint8_t> init(ops::kv_cache_bytes(ops::KvType::q8_0, cells, width), 0xAB);
  Buffer bsrc = upload_vec(src), bcache = upload_vec(init);
  run([&](Context& ctx, CommandList& cmd) {
    ops::kv_store(ctx, cmd, {&bsrc}, {&bcache}, m, width, pos0, cells, ops::KvType::q8_0);
  });
  std::vector<std::uint8_t> got(init.size());
  download(*ctx_, BufferRange{&bcache, 0, got.size()}, std::as_writable_bytes(std::span(got)));
  const std::size_t scales = std::size_t{cells} * width;
  for (std::uint32_t t = 0; t < m; ++t) {
    const std::uint32_t cell = (pos0 + t) % cells;
    for (std::uint32_t b = 0; b < width / 32; ++b) {
      const float* x = &src[t * width + 32 * b];
      const ref::Q8Block want = ref::quantize_q8_0_block(x);
      float d = 0;
      std::memcpy(&d, &got[scales + 4 * (cell * (width / 32) + b)], 4);
      EXPECT_NEAR(d, want.d, 1e-7 * want.d) << "row " << t << " block " << b;
      for (std::uint32_t j = 0; j < 32; ++j) {
        const auto q = static_cast<std::int8_t>(got[cell * width + 32 * b + j]);
        EXPECT_LE(std::abs(q - want.q[j]), 1) << "row " << t << " block " << b << " value " << j;  // x / d at .5
      }
    }
  }
  EXPECT_EQ(got[1 * width], 0xAB) << "cell 1 was written";
}

// A cache as the kernels read it, from f32 values [cells, width]: the bytes and the values they
// stand for (f16-rounded, or Q8_0-quantised by the CPU reference).
struct Cache {
  std::vector<std::uint8_t> bytes;
  std::vector<float> values;
};
Cache make_cache(ops::KvType type, const std::vector<float>& x, std::uint32_t width) {
  Cache c;
  c.values.resize(x.size());
  if (type == ops::KvType::f16) {
    c.bytes.resize(2 * x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::uint16_t h = fp32_to_fp16(x[i]);
      std::memcpy(&c.bytes[2 * i], &h, 2);
      c.values[i] = fp16_to_fp32(h);
    }
    return c;
  }
  const std::size_t blocks = x.size() / 32;
  c.bytes.resize(ops::kv_cache_bytes(type, static_cast<std::uint32_t>(x.size() / width), width));
  for (std::size_t b = 0; b < blocks; ++b) {
    const ref::Q8Block q = ref::quantize_q8_0_block(&x[32 * b]);
    std::memcpy(&c.bytes[x.size() + 4 * b], &q.d, 4);
    for (std::size_t j = 0; j < 32; ++j) {
      c.bytes[32 * b + j] = static_cast<std::uint8_t>(q.q[j]);
      c.values[32 * b + j] = q.d * float(q.q[j]);
    }
  }
  return c;
}

// Row t's visible keys: [lo, hi] (causal, the window, limits).
std::pair<std::uint32_t, std::uint32_t> visible(const ops::AttentionShape& s, const std::vector<std::uint32_t>* limits,
                                                std::uint32_t t) {
  const std::uint32_t pq = s.pos0 + t;
  return {s.window != 0 && pq + 1 > s.window ? pq + 1 - s.window : 0, limits ? (*limits)[t] : pq};
}

// Exact attention in double: q [m, H, hd], caches [cells, Hkv, hd] (the values the cache holds).
// probs (optional) gets each row's softmax over key positions lo..hi of attention_key_range.
std::vector<float> ref_attention(const ops::AttentionShape& s, const std::vector<float>& q,
                                 const std::vector<float>& k, const std::vector<float>& v,
                                 const std::vector<std::uint32_t>* limits = nullptr,
                                 std::vector<double>* probs = nullptr) {
  const std::uint32_t hd = s.head_dim, group = s.n_head / s.n_kv_head;
  const ops::KeyRange range = ops::attention_key_range(s);
  std::vector<float> o(q.size());
  if (probs) probs->assign(std::size_t{s.m} * s.n_head * range.count(), 0.0);
  for (std::uint32_t t = 0; t < s.m; ++t)
    for (std::uint32_t h = 0; h < s.n_head; ++h) {
      const std::uint32_t kvh = h / group;
      const auto [lo, hi] = visible(s, limits, t);
      std::vector<double> sc;
      for (std::uint32_t pk = lo; pk <= hi; ++pk) {
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
        for (std::uint32_t pk = lo; pk <= hi; ++pk)
          acc += sc[pk - lo] * v[((pk % s.cells) * s.n_kv_head + kvh) * hd + i];
        o[(t * s.n_head + h) * hd + i] = float(acc / sum);
      }
      if (probs)
        for (std::uint32_t pk = lo; pk <= hi; ++pk)
          (*probs)[(std::size_t{t} * s.n_head + h) * range.count() + (pk - range.lo)] = sc[pk - lo] / sum;
    }
  return o;
}

std::string describe(const ops::AttentionShape& s, std::uint32_t n_split = 0) {
  return std::string(ops::kv_type_name(s.kv_type)) + " hd " + std::to_string(s.head_dim) + " heads " +
         std::to_string(s.n_head) + "/" + std::to_string(s.n_kv_head) + " m " + std::to_string(s.m) + " pos0 " +
         std::to_string(s.pos0) + " cells " + std::to_string(s.cells) + " window " + std::to_string(s.window) +
         " splits " + std::to_string(n_split);
}

inline constexpr Tolerance kAttention{2e-5, 1e-4};  // fp32 online softmax vs double

// Runs attention() on random q and caches and compares with ref_attention.
class FlashCase {
 public:
  // With s.chunk_cells < cells the caches are two chunks of chunk_cells rows (the second padded).
  FlashCase(AttentionTest& t, const ops::AttentionShape& s, std::uint32_t seed) : t_(t), s_(s) {
    const std::uint32_t width = s.n_kv_head * s.head_dim;
    const std::size_t nc = std::size_t{s.cells} * width;
    q_ = OpsTest::random_floats(std::size_t{s.m} * s.n_head * s.head_dim, seed, -1.0f, 1.0f);
    const auto k = OpsTest::random_floats(nc, seed + 1, -1.0f, 1.0f), v = OpsTest::random_floats(nc, seed + 2, -2.0f, 2.0f);
    const std::size_t split = s.chunk_cells != 0 && s.chunk_cells < s.cells ? std::size_t{s.chunk_cells} * width : nc;
    for (auto [x, whole, second] : {std::tuple{&k, &k_, &k1_}, std::tuple{&v, &v_, &v1_}}) {
      *whole = make_cache(s.kv_type, std::vector<float>(x->begin(), x->begin() + split), width);
      if (split == nc) continue;
      std::vector<float> rest(x->begin() + split, x->end());
      rest.resize(split, 0.0f);
      *second = make_cache(s.kv_type, rest, width);
      whole->values.insert(whole->values.end(), second->values.begin(), second->values.begin() + (nc - split));
    }
  }

  // Compares with the reference; returns the GPU output.
  void check(std::uint32_t n_split, const std::vector<std::uint32_t>* limits = nullptr,
             const ops::AttentionCapture* capture = nullptr) {
    const std::size_t nq = q_.size();
    Buffer bq = t_.upload_vec(q_), bk = t_.upload_vec(k_.bytes), bv = t_.upload_vec(v_.bytes), bo = t_.make(4 * nq);
    Buffer bk1 = t_.upload_vec(k1_.bytes), bv1 = t_.upload_vec(v1_.bytes);
    Buffer blim = t_.upload_vec(limits ? *limits : std::vector<std::uint32_t>{0});
    Context& ctx = t_.context();
    const std::uint32_t splits = n_split ? n_split : ops::attention_splits(ctx.plan(), s_);
    Buffer scratch = t_.make(std::max<std::uint64_t>(ops::attention_scratch_bytes(s_, splits), 4));
    ops::AttentionOptions opt;
    opt.n_split = n_split;
    opt.scratch = {&scratch};
    if (limits) opt.limits = BufferRange{&blim};
    opt.capture = capture;
    if (!k1_.bytes.empty()) opt.k_chunk1 = BufferRange{&bk1}, opt.v_chunk1 = BufferRange{&bv1};
    t_.run([&](Context& c, CommandList& cmd) { ops::attention(c, cmd, s_, {&bq}, {&bk}, {&bv}, {&bo}, opt); });
    want_ = ref_attention(s_, q_, k_.values, v_.values, limits, &probs_);
    EXPECT_TRUE(all_close(t_.download_f32(bo, nq), want_, kAttention, describe(s_, splits)));
  }
  const std::vector<double>& probs() const { return probs_; }

 private:
  AttentionTest& t_;
  ops::AttentionShape s_;
  std::vector<float> q_;
  Cache k_, v_, k1_, v1_;
  std::vector<float> want_;
  std::vector<double> probs_;
};

std::vector<ops::AttentionShape> edge_shapes(ops::KvType type) {
  using S = ops::AttentionShape;
  return {
      S{32, 4, 2, 1, 0, 4, 0, 1.0f, type},          // first token: one key
      S{32, 4, 2, 5, 10, 16, 0, 0.5f, type},        // causal prefill chunk, GQA 2:1
      S{64, 4, 2, 4, 20, 12, 8, 1.0f, type},        // sliding window 8 over a ring of 12 (wrapped)
      S{64, 2, 2, 3, 1, 8, 8, 1.0f, type},          // window larger than the history
      S{512, 4, 1, 2, 300, 302, 0, 0.05f, type},    // MQA, global-layer head dim, several key tiles
      S{256, 4, 2, 1, 700, 1024, 0, 0.1f, type},    // decode at 700
      S{256, 4, 2, 3, 1022, 1280, 1024, 0.1f, type},  // window edges: positions 1022..1024 see 1023, 1024, 1024 keys
      S{256, 2, 1, 2, 1024, 1280, 1024, 0.1f, type},  // positions 1024, 1025: the window's first key moves
      S{256, 4, 2, 4, 3000, 1280, 1024, 0.1f, type},  // ring wrap-around: 3000 % 1280
      S{96, 6, 3, 37, 0, 64, 0, 0.2f, type},        // many rows: several row tiles, odd head dim / 32
      S{36, 2, 1, 3, 5, 16, 0, 1.0f, type},         // head dim not a multiple of 32 (f16 only)
  };
}

TEST_P(AttentionTest, FlashMatchesTheReferenceOnEveryMaskShapeAndKvType) {
  for (const ops::KvType type : {ops::KvType::f16, ops::KvType::q8_0})
    for (const ops::AttentionShape& s : edge_shapes(type)) {
      if (type == ops::KvType::q8_0 && (s.head_dim % 32 != 0 || (s.head_dim == 256 && !context().plan().quantized_v_cache_hd256)))
        continue;
      FlashCase(*this, s, s.head_dim + s.m + s.pos0).check(0);
    }
}

TEST_P(AttentionTest, SplitCountsAgree) {
  for (const ops::AttentionShape& s : {ops::AttentionShape{512, 16, 1, 1, 1500, 2048, 0, 0.05f},
                                       ops::AttentionShape{256, 16, 8, 2, 1400, 1280, 1024, 0.1f}}) {
    FlashCase c(*this, s, 77);
    for (const std::uint32_t n : {1u, 2u, 3u, 7u, 32u}) c.check(n);
  }
}

// The sliding-layer shape of the 12B (head dim 256, GQA 2:1) with a Q8_0 V cache: another engine
// garbles it on Adreno (device-profiles.md); the quirk's devices refuse it with a clear error.
TEST_P(AttentionTest, Q8_0CacheAtTheSlidingLayerShape) {
  for (const ops::AttentionShape& s : {ops::AttentionShape{256, 16, 8, 1, 900, 1280, 1024, 1.0f, ops::KvType::q8_0},
                                       ops::AttentionShape{256, 16, 8, 9, 1500, 1280, 1024, 1.0f, ops::KvType::q8_0}}) {
    if (context().plan().quantized_v_cache_hd256) {
      FlashCase(*this, s, 5).check(0);
      continue;
    }
    Buffer b = make(1 << 22);
    CommandList cmd(*ctx_);
    cmd.begin();
    try {
      ops::attention(*ctx_, cmd, s, {&b}, {&b}, {&b}, {&b});
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("quantized_v_cache_hd256"), std::string::npos) << e.what();
    }
  }
}

// A cache larger than one binding is two chunks: keys on both sides of the boundary, the ring
// wrapping across it, both cache types.
TEST_P(AttentionTest, CacheInTwoChunks) {
  for (const ops::KvType type : {ops::KvType::f16, ops::KvType::q8_0}) {
    using S = ops::AttentionShape;
    FlashCase(*this, S{64, 4, 2, 5, 30, 48, 0, 0.5f, type, 24}, 31).check(0);     // causal over both chunks
    FlashCase(*this, S{64, 4, 2, 3, 100, 40, 16, 0.5f, type, 20}, 32).check(2);   // window over the wrapped ring
    FlashCase(*this, S{512, 4, 1, 1, 299, 300, 0, 0.1f, type, 150}, 33).check(0);  // global shape, split-K
  }
  EXPECT_EQ(ops::kv_chunk_cells(ops::KvType::f16, 262144, 512, 128ull << 20), 131072u);  // the 12B at 256K
  EXPECT_EQ(ops::kv_chunk_cells(ops::KvType::f16, 1000, 512, 128ull << 20), 1000u);
  EXPECT_EQ(ops::kv_chunk_cells(ops::KvType::f16, 300000, 512, 128ull << 20), 0u);
}

// Image soft tokens see their whole block (later ones included) on sliding layers: limits.
TEST_P(AttentionTest, BidirectionalBlocksSeeTheirLaterTokens) {
  // 14 rows at positions 5..18; a block of rows 3..7 (positions 8..12) and one of rows 9..13
  // (positions 14..18) longer than the window 4, whose early keys fall out of later rows' window.
  const ops::AttentionShape s{64, 4, 2, 14, 5, 32, 4, 1.0f};
  std::vector<std::uint32_t> limits(s.m);
  for (std::uint32_t t = 0; t < s.m; ++t) limits[t] = s.pos0 + t;
  for (std::uint32_t t = 3; t <= 7; ++t) limits[t] = 12;
  for (std::uint32_t t = 9; t <= 13; ++t) limits[t] = 18;
  FlashCase c(*this, s, 9);
  c.check(0, &limits);
  c.check(3, &limits);
  const ops::AttentionShape s8{32, 2, 1, 14, 5, 32, 0, 1.0f, ops::KvType::q8_0};  // global-style, no window
  FlashCase(*this, s8, 10).check(0, &limits);
}

TEST_P(AttentionTest, CaptureWritesTheAttentionMapsOfChosenHeads) {
  const ops::AttentionShape s{64, 4, 2, 3, 20, 32, 8, 1.0f};
  std::vector<std::uint32_t> limits = {20, 22, 22};
  const ops::KeyRange range = ops::attention_key_range(s);
  const std::uint32_t heads = 0b1010, n_cap = 2, cols = range.count();
  Buffer scores = make(4ull * s.m * n_cap * cols);
  const ops::AttentionCapture cap{heads, {&scores}};
  FlashCase c(*this, s, 4);
  for (const std::uint32_t n_split : {1u, 2u}) {
    c.check(n_split, &limits, &cap);
    for (const std::uint32_t bins : {cols, 4u}) {
      Buffer map = make(4ull * s.m * n_cap * bins), blim = upload_vec(limits);
      run([&](Context& ctx, CommandList& cmd) {
        ops::attention_capture_maps(ctx, cmd, s, cap, BufferRange{&blim}, bins, {&map});
      });
      std::vector<float> want(std::size_t{s.m} * n_cap * bins);
      for (std::uint32_t t = 0; t < s.m; ++t)
        for (std::uint32_t ci = 0; ci < n_cap; ++ci) {
          const std::uint32_t h = ci == 0 ? 1 : 3;
          for (std::uint32_t bin = 0; bin < bins; ++bin)  // bin b: columns [b * cols / bins, (b + 1) * cols / bins)
            for (std::uint32_t col = bin * cols / bins; col < (bin + 1) * cols / bins; ++col)
              want[(t * n_cap + ci) * bins + bin] += float(c.probs()[(std::size_t{t} * s.n_head + h) * cols + col]);
        }
      EXPECT_TRUE(all_close(download_f32(map, want.size()), want, Tolerance{1e-6, 1e-5},
                            "capture bins " + std::to_string(bins) + " splits " + std::to_string(n_split)));
    }
  }
}

TEST_P(AttentionTest, RejectsKeysOutsideTheRingAndBadShapes) {
  Buffer b = make(1 << 16);
  cmd_->begin();
  auto error_of = [&](const ops::AttentionShape& s) -> std::string {
    try {
      ops::attention(*ctx_, *cmd_, s, {&b}, {&b}, {&b}, {&b});
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error_of({32, 4, 2, 4, 20, 8, 8, 1.0f}).find("span 11 positions but the cache holds 8"), std::string::npos);
  EXPECT_NE(error_of({48, 4, 2, 1, 0, 8, 0, 1.0f, ops::KvType::q8_0}).find("multiple of 32 (q8_0 cache)"),
            std::string::npos);
  EXPECT_NE(error_of({1024, 4, 2, 1, 0, 8, 0, 1.0f}).find("at most 512"), std::string::npos);
  EXPECT_NE(error_of({32, 4, 3, 1, 0, 8, 0, 1.0f}).find("not a multiple of 3 KV heads"), std::string::npos);
}

}  // namespace

TESSERA_INSTANTIATE_PROFILES(AttentionTest);

// The long-context decode of the 12B's layers (8K keys), on the device as it is and with the
// small-tile variant of the minimal profile.
class FlashLongTest : public OpsTest {};
TEST_P(FlashLongTest, DecodeOver8KKeys) {
  FlashCase(*this, ops::AttentionShape{512, 16, 1, 1, 8191, 8192, 0, 1.0f / 16}, 21).check(0);
  FlashCase(*this, ops::AttentionShape{256, 16, 8, 2, 8190, 1280, 1024, 1.0f / 16, ops::KvType::q8_0}, 22).check(0);
}
INSTANTIATE_TEST_SUITE_P(Profiles, FlashLongTest, ::testing::Values("", "minimal"));

}  // namespace tessera::test
