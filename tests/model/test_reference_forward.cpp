// The CPU oracle (tests/common/reference_forward.h) against hand-computed values (its building
// blocks and a 2-layer d=2 model) and against properties every Gemma 4 forward must have on
// factory models: bounded logits, causality, the sliding window, global layers seeing past it,
// the GQA head grouping, agreement between a quantized file and its F32 twin. CPU only.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/reference_forward.h"
#include "common/tools.h"
#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;

// ---- helpers ----

fs::path factory_model(const test::TempDir& dir, const std::string& name, const factory::Preset& preset,
                       const char* type = "F32", std::uint64_t seed = 1) {
  factory::FactoryOptions o;
  o.preset = preset;
  o.type = factory::parse_type_choice(type);
  o.seed = seed;
  o.threads = 2;
  const fs::path path = dir / name;
  factory::write_model(o, path);
  return path;
}

// Edits applied while copying a GGUF.
struct GgufEdit {
  std::function<void(gguf::Writer&)> metadata;                           // may override keys
  std::function<void(const std::string& name, std::vector<float>& w)> f32;  // F32 tensor data
  std::string drop;                                                      // a tensor left out
};

void rewrite_gguf(const fs::path& src, const fs::path& dst, const GgufEdit& edit) {
  const gguf::File f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [key, value] : f.metadata()) w.set(key, value);
  if (edit.metadata) edit.metadata(w);
  std::vector<const gguf::TensorInfo*> kept;
  for (const gguf::TensorInfo& t : f.tensors())
    if (t.name != edit.drop) {
      w.add_tensor(t.name, t.type, t.ne);
      kept.push_back(&t);
    }
  w.begin(dst);
  for (const gguf::TensorInfo* t : kept) {
    if (t->type != DType::F32 || !edit.f32) {
      w.write_data(f.data(*t));
      continue;
    }
    std::vector<float> v(t->n_elements);
    std::memcpy(v.data(), f.data(*t).data(), v.size() * sizeof(float));
    edit.f32(t->name, v);
    w.write_data(std::as_bytes(std::span<const float>(v)));
  }
  w.finish();
}

// Makes every layer sliding (the file must have equal sliding/global attention shapes).
GgufEdit all_sliding(std::uint32_t n_layer) {
  GgufEdit e;
  e.metadata = [n_layer](gguf::Writer& w) {
    w.set_array("gemma4.attention.sliding_window_pattern", std::vector<bool>(n_layer, true));
  };
  return e;
}

GgufEdit edit_f32(std::function<void(const std::string&, std::vector<float>&)> fn) {
  GgufEdit e;
  e.f32 = std::move(fn);
  return e;
}

GgufEdit drop_tensor(std::string name) {
  GgufEdit e;
  e.drop = std::move(name);
  return e;
}

// The tiny preset with global layers shaped like sliding ones (head dim 32, 2 KV heads), so that
// flipping the sliding pattern keeps every tensor shape valid.
factory::Preset uniform_tiny(std::uint32_t n_layer) {
  factory::Preset p = factory::preset_by_name("tiny");
  p.text.n_layer = n_layer;
  p.text.head_dim = p.text.head_dim_swa;
  p.text.n_head_kv = p.text.n_head_kv_swa;
  return p;
}

std::vector<float> row(const std::vector<float>& m, std::size_t r, std::size_t width) {
  return {m.begin() + static_cast<std::ptrdiff_t>(r * width), m.begin() + static_cast<std::ptrdiff_t>((r + 1) * width)};
}

std::vector<std::uint32_t> some_tokens(std::size_t n, std::uint32_t vocab, std::uint32_t salt = 0) {
  std::vector<std::uint32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<std::uint32_t>((i * 7919 + 13 + salt * 31) % vocab);
  return ids;
}

bool is_suppressed(const ref::ReferenceModel& m, std::size_t v) {
  const auto& s = m.suppress_tokens();
  return std::find(s.begin(), s.end(), v) != s.end();
}

// ---- building blocks ----

TEST(ReferenceOps, RmsNormUsesTheWeightAsIs) {
  std::vector<float> x = {3.0f, 4.0f};  // mean(x²) = 12.5
  const std::vector<float> w = {2.0f, 0.5f};
  ref::rms_norm(x, w, 0.0);
  EXPECT_NEAR(x[0], 3.0 / std::sqrt(12.5) * 2.0, 1e-6);  // not (1 + w)
  EXPECT_NEAR(x[1], 4.0 / std::sqrt(12.5) * 0.5, 1e-6);
  std::vector<float> y = {3.0f, 4.0f};
  ref::rms_norm(y, {}, 0.5);  // no weight; eps inside the root
  EXPECT_NEAR(y[0], 3.0 / std::sqrt(13.0), 1e-6);
}

TEST(ReferenceOps, RopePairsDimsHalfTheRotatedWidthApart) {
  // head_dim 8, rope_dims 8: pairs (0,4), (1,5), (2,6), (3,7); theta_j = pos · 100^(-2j/8) / ff[j].
  std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<float> ff = {1.0f, 2.0f, 1e30f, 1.0f};
  ref::rope_neox(x, 3, 100.0, 8, ff);
  auto check_pair = [&](int j, double angle) {
    const double a = j + 1, b = j + 5;  // the original x[j], x[j + 4]
    EXPECT_NEAR(x[j], a * std::cos(angle) - b * std::sin(angle), 1e-5) << "pair " << j;
    EXPECT_NEAR(x[j + 4], a * std::sin(angle) + b * std::cos(angle), 1e-5) << "pair " << j;
  };
  check_pair(0, 3.0);
  check_pair(1, 3.0 * std::pow(100.0, -0.25) / 2.0);  // factor divides the angle
  check_pair(2, 0.0);                                 // 1e30: not rotated
  check_pair(3, 3.0 * std::pow(100.0, -0.75));

  // rope_dims 4 < head_dim 8: pairs (0,2), (1,3); dims 4..7 untouched.
  std::vector<float> y = {1, 2, 3, 4, 5, 6, 7, 8};
  ref::rope_neox(y, 1, 100.0, 4, {});
  EXPECT_NEAR(y[0], std::cos(1.0) - 3 * std::sin(1.0), 1e-5);
  EXPECT_NEAR(y[3], 2 * std::sin(0.1) + 4 * std::cos(0.1), 1e-5);
  EXPECT_EQ(y[4], 5.0f);
  EXPECT_EQ(y[7], 8.0f);

  std::vector<float> z = {1, 2, 3, 4};  // position 0 is the identity
  ref::rope_neox(z, 0, 1e4, 4, {});
  EXPECT_EQ(z, (std::vector<float>{1, 2, 3, 4}));
}

TEST(ReferenceOps, GeluIsTheTanhApproximation) {
  EXPECT_NEAR(ref::gelu_tanh(1.0), 0.8411919906, 1e-9);  // erf-GELU would give 0.8413447
  EXPECT_NEAR(ref::gelu_tanh(-1.0), -0.1588080094, 1e-9);
  EXPECT_EQ(ref::gelu_tanh(0.0), 0.0);
}

// ---- a 2-layer model with d = 2 and heads of width 2, checked by plain 2-D arithmetic ----

using V2 = std::array<double, 2>;
using M2 = std::array<V2, 2>;  // rows: y[r] = dot(m[r], x)

struct HandLayer {
  bool sliding = false;
  V2 attn_norm, q_norm, k_norm, post_attn, ffn_norm, post_ffw;
  M2 wq, wk, wv, wo, gate, up, down;  // wv: sliding layer only (global: V = raw K)
  double scale = 1.0;
};

struct HandModel {
  std::array<V2, 3> embd = {V2{0.5, -0.25}, V2{0.1, 0.4}, V2{-0.3, 0.2}};  // vocab 3
  std::array<HandLayer, 2> layers = {
      HandLayer{true, {1.0, 0.5}, {0.8, 1.3}, {1.1, 0.6}, {1.2, 0.7}, {0.9, 1.1}, {0.6, 1.4},
                M2{V2{0.9, -0.6}, V2{0.4, 1.1}}, M2{V2{-0.7, 0.5}, V2{1.2, 0.3}}, M2{V2{0.3, 0.8}, V2{-1.0, 0.2}},
                M2{V2{1.1, 0.2}, V2{-0.3, 0.8}}, M2{V2{0.7, 0.9}, V2{-0.4, 1.3}}, M2{V2{1.0, -0.6}, V2{0.5, 0.5}},
                M2{V2{0.8, -0.3}, V2{0.6, 0.4}}, 0.7},
      HandLayer{false, {1.0, 0.5}, {1.2, 0.9}, {0.7, 1.1}, {0.9, 1.1}, {1.0, 0.8}, {1.05, 0.95},
                M2{V2{1.0, 0.5}, V2{-0.5, 1.0}}, M2{V2{0.8, -0.2}, V2{0.3, 0.9}}, M2{},
                M2{V2{0.6, -0.4}, V2{0.2, 0.7}}, M2{V2{1.0, -0.5}, V2{0.3, 0.6}}, M2{V2{0.4, 0.2}, V2{-0.7, 0.5}},
                M2{V2{0.5, 0.1}, V2{-0.2, 0.9}}, 0.6}};
  V2 out_norm{1.0, 1.3};
  double rope_factor = 2.0, softcap = 2.0, eps = 1e-6;
  std::uint32_t window = 2;  // sliding layer: a query sees itself and 1 previous key
};

void write_hand_model(const HandModel& hm, const fs::path& path) {
  gguf::Writer w;
  w.set_string("general.architecture", "gemma4");
  w.set_u32("gemma4.block_count", 2);
  w.set_u32("gemma4.context_length", 64);
  w.set_u32("gemma4.embedding_length", 2);
  w.set_u32("gemma4.feed_forward_length", 2);
  w.set_u32("gemma4.attention.head_count", 1);
  w.set_u32("gemma4.attention.head_count_kv", 1);
  w.set_u32("gemma4.attention.key_length", 2);
  w.set_u32("gemma4.attention.key_length_swa", 2);
  w.set_f32("gemma4.attention.layer_norm_rms_epsilon", static_cast<float>(hm.eps));
  w.set_u32("gemma4.attention.sliding_window", hm.window);
  w.set_array("gemma4.attention.sliding_window_pattern", std::vector<bool>{true, false});
  w.set_f32("gemma4.rope.freq_base", 1e6f);  // theta_0 = pos · base^0: the base does not matter at d 2
  w.set_f32("gemma4.rope.freq_base_swa", 1e4f);
  w.set_f32("gemma4.final_logit_softcapping", static_cast<float>(hm.softcap));
  w.set_array("tokenizer.ggml.suppress_tokens", std::vector<std::int32_t>{1});
  std::vector<std::vector<float>> data;
  auto add = [&](const std::string& name, std::vector<std::uint64_t> ne, std::vector<float> v) {
    w.add_tensor(name, DType::F32, std::move(ne));
    data.push_back(std::move(v));
  };
  auto vec = [&](const std::string& name, V2 v) { add(name, {2}, {float(v[0]), float(v[1])}); };
  auto mat = [&](const std::string& name, M2 m) {
    add(name, {2, 2}, {float(m[0][0]), float(m[0][1]), float(m[1][0]), float(m[1][1])});
  };
  std::vector<float> e;
  for (const V2& r : hm.embd) e.insert(e.end(), {float(r[0]), float(r[1])});
  add("token_embd.weight", {2, 3}, e);
  add("rope_freqs.weight", {1}, {float(hm.rope_factor)});
  for (std::size_t il = 0; il < 2; ++il) {
    const HandLayer& l = hm.layers[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    vec(p + "attn_norm.weight", l.attn_norm);
    mat(p + "attn_q.weight", l.wq);
    mat(p + "attn_k.weight", l.wk);
    if (l.sliding) mat(p + "attn_v.weight", l.wv);
    vec(p + "attn_q_norm.weight", l.q_norm);
    vec(p + "attn_k_norm.weight", l.k_norm);
    mat(p + "attn_output.weight", l.wo);
    vec(p + "post_attention_norm.weight", l.post_attn);
    vec(p + "ffn_norm.weight", l.ffn_norm);
    mat(p + "ffn_gate.weight", l.gate);
    mat(p + "ffn_up.weight", l.up);
    mat(p + "ffn_down.weight", l.down);
    vec(p + "post_ffw_norm.weight", l.post_ffw);
    add(p + "layer_output_scale.weight", {1}, {float(l.scale)});
  }
  vec("output_norm.weight", hm.out_norm);
  w.begin(path);
  for (const auto& v : data) w.write_data(std::as_bytes(std::span<const float>(v)));
  w.finish();
}

// The spec's §2.1/§2.2 steps written out in 2-D: the post-final-norm hidden state of every token.
std::vector<V2> expected_hand_hidden(const HandModel& hm, const std::vector<std::uint32_t>& ids) {
  auto rms = [&](V2 x, V2 w) {
    const double r = 1.0 / std::sqrt((x[0] * x[0] + x[1] * x[1]) / 2.0 + hm.eps);
    return V2{x[0] * r * w[0], x[1] * r * w[1]};
  };
  auto mv = [](M2 m, V2 x) { return V2{m[0][0] * x[0] + m[0][1] * x[1], m[1][0] * x[0] + m[1][1] * x[1]}; };
  auto rot = [](V2 x, double a) { return V2{x[0] * std::cos(a) - x[1] * std::sin(a), x[0] * std::sin(a) + x[1] * std::cos(a)}; };
  auto gelu = [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x))); };
  const std::size_t T = ids.size();
  std::vector<V2> h(T);
  for (std::size_t t = 0; t < T; ++t)
    for (int i = 0; i < 2; ++i) h[t][i] = hm.embd[ids[t]][i] * std::sqrt(2.0f);  // f32 sqrt(n_embd)
  for (const HandLayer& l : hm.layers) {
    std::vector<V2> q(T), k(T), v(T);
    for (std::size_t t = 0; t < T; ++t) {
      const V2 a = rms(h[t], l.attn_norm);
      const double angle = l.sliding ? double(t) : t / hm.rope_factor;  // factors on the global layer only
      q[t] = rot(rms(mv(l.wq, a), l.q_norm), angle);
      const V2 k_raw = mv(l.wk, a);
      k[t] = rot(rms(k_raw, l.k_norm), angle);
      v[t] = rms(l.sliding ? mv(l.wv, a) : k_raw, V2{1, 1});  // weight-less, no RoPE
    }
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t first = l.sliding && t + 1 > hm.window ? t + 1 - hm.window : 0;
      double sum = 0;
      V2 o{0, 0};
      for (std::size_t j = first; j <= t; ++j) {
        const double p = std::exp(q[t][0] * k[j][0] + q[t][1] * k[j][1]);  // scale 1.0
        sum += p;
        o = {o[0] + p * v[j][0], o[1] + p * v[j][1]};
      }
      const V2 attn = rms(mv(l.wo, V2{o[0] / sum, o[1] / sum}), l.post_attn);
      h[t] = {h[t][0] + attn[0], h[t][1] + attn[1]};
      const V2 f = rms(h[t], l.ffn_norm), g = mv(l.gate, f), u = mv(l.up, f);
      const V2 ffn = rms(mv(l.down, V2{gelu(g[0]) * u[0], gelu(g[1]) * u[1]}), l.post_ffw);
      h[t] = {(h[t][0] + ffn[0]) * l.scale, (h[t][1] + ffn[1]) * l.scale};
    }
  }
  for (V2& y : h) y = rms(y, hm.out_norm);
  return h;
}

TEST(ReferenceForward, MatchesAHandComputedTwoLayerModel) {
  test::TempDir dir;
  const HandModel hm;
  write_hand_model(hm, dir / "d2.gguf");
  const ref::ReferenceModel m = ref::ReferenceModel::load(dir / "d2.gguf");
  ASSERT_EQ(m.hparams().n_vocab, 3u);
  const std::vector<std::uint32_t> ids = {0, 2, 1, 2, 0};
  const std::vector<float> logits = m.forward(ids), hidden = m.hidden_states(ids);
  ASSERT_EQ(logits.size(), 15u);
  const std::vector<V2> y = expected_hand_hidden(hm, ids);
  for (std::size_t t = 0; t < ids.size(); ++t) {
    EXPECT_NEAR(hidden[t * 2], y[t][0], 1e-5) << "t " << t;
    EXPECT_NEAR(hidden[t * 2 + 1], y[t][1], 1e-5) << "t " << t;
    for (std::size_t tok = 0; tok < 3; ++tok) {
      const float got = logits[t * 3 + tok];
      if (tok == 1) {
        EXPECT_TRUE(std::isinf(got) && got < 0) << "suppressed token 1, t " << t;
        continue;
      }
      const double z = hm.embd[tok][0] * y[t][0] + hm.embd[tok][1] * y[t][1];  // tied head, unscaled
      EXPECT_NEAR(got, hm.softcap * std::tanh(z / hm.softcap), 1e-5) << "t " << t << " token " << tok;
    }
  }
}

// ---- properties on factory models ----

TEST(ReferenceForward, TinyLogitsAreFiniteCappedSuppressedAndVaried) {
  test::TempDir dir;
  const ref::ReferenceModel m = ref::ReferenceModel::load(factory_model(dir, "tiny.gguf", factory::preset_by_name("tiny")));
  const Gemma4HParams& hp = m.hparams();
  ASSERT_EQ(m.suppress_tokens().size(), 2u);  // the factory writes <audio|>, <image|>
  const auto ids = some_tokens(24, hp.n_vocab);
  const std::vector<float> logits = m.forward(ids);
  ASSERT_EQ(logits.size(), ids.size() * hp.n_vocab);
  double max_spread = 0;
  for (std::size_t t = 0; t < ids.size(); ++t) {
    float lo = 1e9f, hi = -1e9f;
    for (std::size_t v = 0; v < hp.n_vocab; ++v) {
      const float z = logits[t * hp.n_vocab + v];
      if (is_suppressed(m, v)) {
        ASSERT_TRUE(std::isinf(z) && z < 0) << "t " << t << " v " << v;
        continue;
      }
      ASSERT_TRUE(std::isfinite(z)) << "t " << t << " v " << v;
      ASSERT_LE(std::fabs(z), hp.final_logit_softcap) << "t " << t << " v " << v;
      lo = std::min(lo, z);
      hi = std::max(hi, z);
    }
    max_spread = std::max(max_spread, static_cast<double>(hi - lo));
  }
  EXPECT_GT(max_spread, 1.0);  // not a constant row
  EXPECT_FALSE(row(logits, 0, hp.n_vocab) == row(logits, 1, hp.n_vocab));
}

TEST(ReferenceForward, PrefixLogitsEqualTheFirstRowsOfALongerSequence) {
  test::TempDir dir;
  const ref::ReferenceModel m = ref::ReferenceModel::load(factory_model(dir, "tiny.gguf", factory::preset_by_name("tiny")));
  const std::size_t V = m.hparams().n_vocab;
  const auto ids = some_tokens(40, static_cast<std::uint32_t>(V));  // longer than the window (16)
  const std::vector<float> full = m.forward(ids);
  for (const std::size_t n : {1u, 17u, 39u}) {
    const std::vector<float> prefix = m.forward(std::span<const std::uint32_t>(ids).first(n));
    ASSERT_EQ(prefix.size(), n * V);
    for (std::size_t i = 0; i < prefix.size(); ++i) ASSERT_EQ(prefix[i], full[i]) << "prefix " << n << " at " << i;
  }
  // ...and a later token does change later rows (causal, not constant).
  auto changed = ids;
  changed[20] = (changed[20] + 1) % static_cast<std::uint32_t>(V);
  const std::vector<float> other = m.forward(changed);
  EXPECT_TRUE(row(other, 19, V) == row(full, 19, V));
  EXPECT_FALSE(row(other, 20, V) == row(full, 20, V));
}

TEST(ReferenceForward, SlidingWindowShowsAQueryItselfAndTheWindowMinusOnePreviousKeys) {
  test::TempDir dir;
  const fs::path global = factory_model(dir, "global.gguf", uniform_tiny(1));  // one layer, global
  rewrite_gguf(global, dir / "sliding.gguf", all_sliding(1));
  const ref::ReferenceModel g = ref::ReferenceModel::load(global);
  const ref::ReferenceModel s = ref::ReferenceModel::load(dir / "sliding.gguf");
  ASSERT_TRUE(s.hparams().layer(0).is_sliding);
  ASSERT_FALSE(g.hparams().layer(0).is_sliding);
  const std::size_t V = s.hparams().n_vocab, W = s.hparams().sliding_window, last = 39;
  ASSERT_EQ(W, 16u);
  const auto ids = some_tokens(last + 1, static_cast<std::uint32_t>(V));
  auto with_changed = [&](std::size_t pos) {
    auto c = ids;
    c[pos] = (c[pos] + 5) % static_cast<std::uint32_t>(V);
    return c;
  };
  const std::vector<float> base = s.forward(ids);
  // pq - pk == W: outside the window, bit-identical last row; pq - pk == W - 1: inside.
  EXPECT_TRUE(row(s.forward(with_changed(last - W)), last, V) == row(base, last, V));
  EXPECT_FALSE(row(s.forward(with_changed(last - W + 1)), last, V) == row(base, last, V));
  // The same weights as a global layer see the far token.
  EXPECT_FALSE(row(g.forward(with_changed(last - W)), last, V) == row(g.forward(ids), last, V));
}

TEST(ReferenceForward, FirstTokenReachesFarRowsOnlyThroughGlobalLayers) {
  test::TempDir dir;
  const fs::path mixed = factory_model(dir, "mixed.gguf", uniform_tiny(6));  // [S,S,S,S,S,F]
  rewrite_gguf(mixed, dir / "sliding.gguf", all_sliding(6));
  const ref::ReferenceModel m = ref::ReferenceModel::load(mixed);
  const ref::ReferenceModel s = ref::ReferenceModel::load(dir / "sliding.gguf");
  ASSERT_EQ(m.hparams().n_global_layers(), 1u);
  ASSERT_EQ(s.hparams().n_global_layers(), 0u);
  const std::size_t V = m.hparams().n_vocab;
  // 6 sliding layers of window 16 reach back 6 · 15 = 90 positions: row 90 sees token 0, row 91 not.
  const auto ids = some_tokens(92, static_cast<std::uint32_t>(V));
  auto changed = ids;
  changed[0] = (changed[0] + 1) % static_cast<std::uint32_t>(V);
  const std::vector<float> s_base = s.forward(ids), s_changed = s.forward(changed);
  EXPECT_FALSE(row(s_changed, 90, V) == row(s_base, 90, V));
  EXPECT_TRUE(row(s_changed, 91, V) == row(s_base, 91, V));
  EXPECT_FALSE(row(m.forward(changed), 91, V) == row(m.forward(ids), 91, V));  // the global layer sees it
}

// Query heads 0, 1 read KV head 0 and heads 2, 3 read KV head 1 (h / (n_head / n_kv)): with the
// output columns of heads 2, 3 zeroed, only KV head 0's weights can move the logits.
TEST(ReferenceForward, QueryHeadsReadTheirGroupsKvHead) {
  test::TempDir dir;
  const fs::path base = factory_model(dir, "base.gguf", uniform_tiny(1));  // 1 layer, 4 heads, 2 KV heads
  const ref::ReferenceModel probe = ref::ReferenceModel::load(base);
  const LayerHParams lp = probe.hparams().layer(0);
  ASSERT_EQ(lp.n_head, 4u);
  ASSERT_EQ(lp.n_kv_heads, 2u);
  const std::size_t hd = lp.head_dim, o_in = lp.n_head * hd;
  auto zero_heads_23 = [&](const std::string& name, std::vector<float>& w) {
    if (name != "blk.0.attn_output.weight") return;
    for (std::size_t r = 0; r < w.size() / o_in; ++r)
      std::fill(w.begin() + static_cast<std::ptrdiff_t>(r * o_in + 2 * hd), w.begin() + static_cast<std::ptrdiff_t>((r + 1) * o_in), 0.0f);
  };
  // K (= V on this global layer) rows of one KV head, bent out of shape (not just rescaled: K is normed).
  auto bend_kv_head = [&](std::size_t g) {
    return [&, g](const std::string& name, std::vector<float>& w) {
      zero_heads_23(name, w);
      if (name != "blk.0.attn_k.weight") return;
      const std::size_t n = hd * probe.hparams().n_embd;
      for (std::size_t i = g * n; i < (g + 1) * n; ++i) w[i] *= 1.0f + 0.5f * std::sin(static_cast<float>(i));
    };
  };
  rewrite_gguf(base, dir / "a.gguf", edit_f32(zero_heads_23));
  rewrite_gguf(base, dir / "kv0.gguf", edit_f32(bend_kv_head(0)));
  rewrite_gguf(base, dir / "kv1.gguf", edit_f32(bend_kv_head(1)));
  const auto ids = some_tokens(12, probe.hparams().n_vocab);
  const std::vector<float> a = ref::ReferenceModel::load(dir / "a.gguf").forward(ids);
  EXPECT_TRUE(ref::ReferenceModel::load(dir / "kv1.gguf").forward(ids) == a);
  EXPECT_FALSE(ref::ReferenceModel::load(dir / "kv0.gguf").forward(ids) == a);
}

double logits_nmse(const std::vector<float>& ref, const std::vector<float>& x) {
  double err = 0, ref2 = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (std::isinf(ref[i])) continue;  // suppressed in both
    err += (double(ref[i]) - x[i]) * (double(ref[i]) - x[i]);
    ref2 += double(ref[i]) * ref[i];
  }
  return err / ref2;
}

// The same factory weights stored as F16 and Q8_0 give logits close to the F32 file's, F16 the
// closer (measured NMSE: F16 ~2e-6, Q8_0 ~1e-3 after 6 layers; a misplaced block is ~1).
TEST(ReferenceForward, QuantizedFilesAgreeWithTheirF32Twin) {
  test::TempDir dir;
  const factory::Preset tiny = factory::preset_by_name("tiny");
  const ref::ReferenceModel f32 = ref::ReferenceModel::load(factory_model(dir, "f32.gguf", tiny, "F32", 5));
  const ref::ReferenceModel f16 = ref::ReferenceModel::load(factory_model(dir, "f16.gguf", tiny, "F16", 5));
  const ref::ReferenceModel q8 = ref::ReferenceModel::load(factory_model(dir, "q8.gguf", tiny, "Q8_0", 5));
  const auto ids = some_tokens(20, f32.hparams().n_vocab, 3);
  const std::vector<float> want = f32.forward(ids);
  const double e16 = logits_nmse(want, f16.forward(ids)), e8 = logits_nmse(want, q8.forward(ids));
  EXPECT_GT(e16, 0.0);  // the weights really are different numbers...
  EXPECT_LT(e16, 1e-4);  // ...dequantized into the same places
  EXPECT_LT(e16, e8);
  EXPECT_LT(e8, 1e-2);
}

TEST(ReferenceForward, SmallQ4KMPromptOfAHundredTokens) {
  test::TempDir dir;
  const ref::ReferenceModel m =
      ref::ReferenceModel::load(factory_model(dir, "small.gguf", factory::preset_by_name("small"), "Q4_K_M", 2));
  const Gemma4HParams& hp = m.hparams();
  ASSERT_EQ(hp.n_layer, 12u);
  const auto ids = some_tokens(100, hp.n_vocab);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<float> logits = m.forward(ids);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[reference] small preset, 100 tokens: %.2f s\n", secs);
  ASSERT_EQ(logits.size(), ids.size() * hp.n_vocab);
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (is_suppressed(m, i % hp.n_vocab)) continue;
    ASSERT_TRUE(std::isfinite(logits[i]) && std::fabs(logits[i]) <= 30.0f) << i;
  }
  // forward() is the LM head over hidden_states().
  EXPECT_TRUE(m.logits_from_hidden(m.hidden_states(ids)) == logits);
}

TEST(ReferenceForward, ResidualBisectsTheLayers) {
  test::TempDir dir;
  const ref::ReferenceModel m = ref::ReferenceModel::load(factory_model(dir, "tiny.gguf", factory::preset_by_name("tiny")));
  const Gemma4HParams& hp = m.hparams();
  const std::vector<std::uint32_t> ids = {3, 9};
  const std::vector<float> x = m.residual(ids, 0);  // the scaled embeddings
  ASSERT_EQ(x.size(), 2u * hp.n_embd);
  const gguf::File f = gguf::File::open(dir / "tiny.gguf");
  const gguf::TensorInfo& e = f.tensor("token_embd.weight");
  const float* embd = reinterpret_cast<const float*>(f.data(e).data());
  EXPECT_EQ(x[hp.n_embd + 5], embd[9 * hp.n_embd + 5] * std::sqrt(static_cast<float>(hp.n_embd)));
  EXPECT_FALSE(m.residual(ids, 1) == x);
  // hidden_states() is the final norm of the residual after every layer.
  const gguf::TensorInfo& on = f.tensor("output_norm.weight");
  const std::span<const float> out_norm(reinterpret_cast<const float*>(f.data(on).data()), hp.n_embd);
  std::vector<float> h = m.residual(ids, hp.n_layer);
  for (std::size_t t = 0; t < 2; ++t) ref::rms_norm(std::span<float>(h).subspan(t * hp.n_embd, hp.n_embd), out_norm, hp.rms_eps);
  EXPECT_TRUE(h == m.hidden_states(ids));
  EXPECT_THROW(m.residual(ids, hp.n_layer + 1), Error);
}

TEST(ReferenceForward, RejectsMissingTensorsAndUnknownTokens) {
  test::TempDir dir;
  const fs::path path = factory_model(dir, "tiny.gguf", factory::preset_by_name("tiny"));
  rewrite_gguf(path, dir / "broken.gguf", drop_tensor("blk.3.ffn_up.weight"));
  try {
    (void)ref::ReferenceModel::load(dir / "broken.gguf");
    FAIL() << "loaded a model without blk.3.ffn_up.weight";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.3.ffn_up.weight"), std::string::npos) << e.what();
  }
  const ref::ReferenceModel m = ref::ReferenceModel::load(path);
  const std::vector<std::uint32_t> bad = {1, m.hparams().n_vocab};
  EXPECT_THROW((void)m.forward(bad), Error);
  EXPECT_TRUE(m.forward({}).empty());
}

}  // namespace
}  // namespace tessera
