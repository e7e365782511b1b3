// The CPU oracle of one MTP drafting step (tests/common/reference_drafter.h) and the target cache
// it reads (ReferenceModel::kv): a hand loop with silent layers, which keys a step sees (P = 1, the
// sliding window, the global layer), the naming variants of spec §8.3, and the errors. CPU only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/reference_drafter.h"
#include "common/reference_forward.h"
#include "common/tools.h"
#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "runtime/quant/dequant.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using Kv = std::vector<ref::ReferenceModel::LayerKv>;

// ---- helpers ----

factory::FactoryOptions tiny_options(std::uint64_t seed = 1) {
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name("tiny");
  o.type = factory::parse_type_choice("F32");
  o.seed = seed;
  o.threads = 2;
  return o;
}

// A target and its drafter of one seed, F32.
struct Files {
  test::TempDir dir;
  fs::path model = dir / "m.gguf";
  fs::path drafter = dir / "d.gguf";
  Files() {
    factory::write_model(tiny_options(), model);
    factory::write_drafter(tiny_options(), drafter);
  }
};

// Edits applied while copying a GGUF.
struct GgufEdit {
  std::function<void(gguf::Writer&)> metadata;                              // may override keys
  std::function<std::string(const std::string&)> key;                       // renames keys
  std::function<std::string(const std::string&)> tensor;                    // renames tensors
  std::function<void(const std::string& name, std::vector<float>& w)> f32;  // F32 tensor data
  std::string drop;                                                         // a tensor left out
};

void rewrite_gguf(const fs::path& src, const fs::path& dst, const GgufEdit& edit) {
  const gguf::File f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [key, value] : f.metadata()) w.set(edit.key ? edit.key(key) : key, value);
  if (edit.metadata) edit.metadata(w);
  std::vector<const gguf::TensorInfo*> kept;
  for (const gguf::TensorInfo& t : f.tensors())
    if (t.name != edit.drop) {
      w.add_tensor(edit.tensor ? edit.tensor(t.name) : t.name, t.type, t.ne);
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

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Zeroes a drafter's post-attention norms (but `keep`), its post-FFN norms and the h-half of its
// pre-projection (d: the backbone width): those layers add 0 and h is not read.
GgufEdit silence_drafter(std::uint32_t d, const std::string& keep = "") {
  GgufEdit e;
  e.f32 = [d, keep](const std::string& name, std::vector<float>& w) {
    if ((ends_with(name, ".post_attention_norm.weight") && name != keep) || ends_with(name, ".post_ffw_norm.weight"))
      std::fill(w.begin(), w.end(), 0.0f);
    if (name == "nextn.pre_projection.weight")
      for (std::size_t off = 0; off < w.size(); off += 2 * d)
        std::fill(w.begin() + off + d, w.begin() + off + 2 * d, 0.0f);
  };
  return e;
}

std::vector<float> values(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  return dequantize(t.type, f.data(t), static_cast<std::int64_t>(t.n_elements));
}

std::vector<std::uint32_t> some_tokens(std::size_t n, std::uint32_t vocab) {
  std::vector<std::uint32_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<std::uint32_t>((i * 7919 + 13) % vocab);
  return ids;
}

std::vector<float> some_hidden(std::size_t d, float salt) {
  std::vector<float> h(d);
  for (std::size_t i = 0; i < d; ++i) h[i] = std::sin(0.7f * static_cast<float>(i) + salt);
  return h;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = a.size() == b.size() ? 0.0 : INFINITY;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::fabs(double{a[i]} - b[i]));
  return m;
}

// The target prompt of `T` tokens, its cache, and one drafter: what every step test starts from.
struct Prompt {
  Files files;
  ref::ReferenceModel target = ref::ReferenceModel::load(files.model);
  ref::ReferenceDrafter drafter = ref::ReferenceDrafter::load(files.drafter);
  std::vector<std::uint32_t> ids;
  Kv kv;
  std::vector<float> hidden;  // [T, d]
  explicit Prompt(std::size_t T) : ids(some_tokens(T, target.hparams().n_vocab)), kv(target.kv(ids)),
                                  hidden(target.hidden_states(ids)) {}
  std::span<const float> h(std::size_t row) const {
    const std::size_t d = target.hparams().n_embd;
    return std::span<const float>(hidden).subspan(row * d, d);
  }
};

// ---- the target cache ----

TEST(ReferenceKv, HoldsNormedRopedKeysAndNormedValues) {
  Files files;
  const ref::ReferenceModel m = ref::ReferenceModel::load(files.model);
  const gguf::File f = gguf::File::open(files.model);
  const Gemma4HParams& hp = m.hparams();
  const std::vector<std::uint32_t> ids = some_tokens(9, hp.n_vocab);
  const Kv kv = m.kv(ids);
  ASSERT_EQ(kv.size(), hp.n_layer);
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams lp = hp.layer(il);
    const ref::ReferenceModel::LayerKv& l = kv[il];
    EXPECT_EQ(l.head_dim, lp.head_dim);
    EXPECT_EQ(l.value_dim, lp.value_dim);
    EXPECT_EQ(l.n_kv_heads, lp.n_kv_heads);
    ASSERT_EQ(l.k.size(), ids.size() * lp.n_kv_heads * lp.head_dim);
    ASSERT_EQ(l.v.size(), ids.size() * lp.n_kv_heads * lp.value_dim);
    // V-norm without weight: every head row has rms 1.
    for (std::size_t off = 0; off < l.v.size(); off += lp.value_dim) {
      double ss = 0;
      for (std::size_t i = 0; i < lp.value_dim; ++i) ss += double{l.v[off + i]} * l.v[off + i];
      EXPECT_NEAR(std::sqrt(ss / lp.value_dim), 1.0, 1e-4) << "layer " << il;
    }
    // Position 0 is not rotated: k = v · k_norm on global layers, where V is the normed raw K.
    if (!lp.is_sliding) {
      const std::vector<float> k_norm = values(f, "blk." + std::to_string(il) + ".attn_k_norm.weight");
      for (std::size_t i = 0; i < lp.head_dim; ++i) EXPECT_NEAR(l.k[i], l.v[i] * k_norm[i], 1e-5) << "dim " << i;
    }
  }
  // Causal: the cache of a prefix is the first rows of the cache of the whole.
  const std::vector<std::uint32_t> prefix(ids.begin(), ids.begin() + 5);
  const Kv kp = m.kv(prefix);
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    EXPECT_TRUE(std::equal(kp[il].k.begin(), kp[il].k.end(), kv[il].k.begin())) << "layer " << il;
    EXPECT_TRUE(std::equal(kp[il].v.begin(), kp[il].v.end(), kv[il].v.begin())) << "layer " << il;
  }
}

// ---- one drafting step ----

// Post norms and the pre-projection's h-half zeroed: every layer adds 0, so the step is
// logits = E_d · output_norm(s·pre_x · x) with s the product of the layer scales, a loop here.
TEST(ReferenceDrafter, SilentLayersLeaveTheProjectedEmbedding) {
  Files files;
  const fs::path silent = files.dir / "silent.gguf";
  const std::uint32_t d = factory::preset_by_name("tiny").text.n_embd;
  rewrite_gguf(files.drafter, silent, silence_drafter(d));

  const ref::ReferenceModel target = ref::ReferenceModel::load(files.model);
  const ref::ReferenceDrafter drafter = ref::ReferenceDrafter::load(silent);
  const std::vector<std::uint32_t> ids = some_tokens(8, target.hparams().n_vocab);
  const Kv kv = target.kv(ids);

  // The naive loop, from the files alone.
  const gguf::File tf = gguf::File::open(files.model), df = gguf::File::open(silent);
  const Gemma4HParams& dh = drafter.hparams();
  const std::uint32_t h = dh.n_embd, V = dh.n_vocab, t = 77;
  const std::vector<float> embd = values(tf, "token_embd.weight"), pre = values(df, "nextn.pre_projection.weight"),
                           post = values(df, "nextn.post_projection.weight"),
                           out_norm = values(df, "output_norm.weight"), head = values(df, "token_embd.weight");
  double s = 1;
  for (std::uint32_t il = 0; il < dh.n_layer; ++il)
    s *= values(df, "blk." + std::to_string(il) + ".layer_output_scale.weight")[0];
  std::vector<double> u(h);
  double ss = 0;
  for (std::uint32_t k = 0; k < h; ++k) {
    for (std::uint32_t i = 0; i < d; ++i) u[k] += double{pre[k * 2 * d + i]} * embd[t * d + i] * std::sqrt(float(d));
    u[k] *= s;
    ss += u[k] * u[k];
  }
  std::vector<double> y(h);
  for (std::uint32_t k = 0; k < h; ++k) y[k] = u[k] / std::sqrt(ss / h + dh.rms_eps) * out_norm[k];

  for (const std::uint32_t P : {1u, 5u, 8u}) {
    const ref::ReferenceDrafter::Step st = drafter.step(target, kv, t, some_hidden(d, float(P)), P);
    ASSERT_EQ(st.logits.size(), V);
    ASSERT_EQ(st.h_next.size(), d);
    std::uint32_t best = 0;
    for (std::uint32_t j = 0; j < V; ++j) {
      double z = 0;
      for (std::uint32_t k = 0; k < h; ++k) z += double{head[j * h + k]} * y[k];
      EXPECT_NEAR(st.logits[j], z, 1e-4 * (1 + std::fabs(z))) << "P " << P << " token " << j;
      if (st.logits[j] > st.logits[best]) best = j;
    }
    EXPECT_EQ(st.token, best);
    for (std::uint32_t i = 0; i < d; ++i) {
      double z = 0;
      for (std::uint32_t k = 0; k < h; ++k) z += double{post[i * h + k]} * y[k];
      EXPECT_NEAR(st.h_next[i], z, 1e-4 * (1 + std::fabs(z))) << "h_next " << i;
    }
  }
}

// One attention layer left active (the others and every FFN silent), recomputed here by a
// naive loop: pins the target layer read, the keys seen, RoPE at P with the target's parameters
// (and rope_freqs on the global layer), the attention scale 1 and the GQA head mapping.
void check_one_active_layer(std::uint32_t active, std::uint32_t P) {
  Files files;
  const fs::path one = files.dir / "one.gguf";
  const std::uint32_t d = factory::preset_by_name("tiny").text.n_embd;
  rewrite_gguf(files.drafter, one, silence_drafter(d, "blk." + std::to_string(active) + ".post_attention_norm.weight"));
  const ref::ReferenceModel target = ref::ReferenceModel::load(files.model);
  const ref::ReferenceDrafter drafter = ref::ReferenceDrafter::load(one);
  const std::vector<std::uint32_t> ids = some_tokens(P + 3, target.hparams().n_vocab);
  const Kv kv = target.kv(ids);
  const std::uint32_t t = 123;
  const ref::ReferenceDrafter::Step st = drafter.step(target, kv, t, some_hidden(d, 1.0f), P);

  const gguf::File tf = gguf::File::open(files.model), df = gguf::File::open(one);
  const Gemma4HParams& dh = drafter.hparams();
  const Gemma4HParams& th = target.hparams();
  const std::uint32_t h = dh.n_embd, V = dh.n_vocab;
  const auto w = [&](const std::string& name) { return values(df, name); };
  const std::string p = "blk." + std::to_string(active) + ".";
  const std::vector<float> embd = values(tf, "token_embd.weight"), pre = w("nextn.pre_projection.weight");
  const auto norm = [&](std::vector<double>& x, const std::vector<float>& wt) {
    double ss = 0;
    for (const double v : x) ss += v * v;
    for (std::size_t i = 0; i < x.size(); ++i)
      x[i] = x[i] / std::sqrt(ss / x.size() + dh.rms_eps) * (wt.empty() ? 1.0 : wt[i]);
  };
  std::vector<double> u(h);
  for (std::uint32_t k = 0; k < h; ++k)
    for (std::uint32_t i = 0; i < d; ++i) u[k] += double{pre[k * 2 * d + i]} * embd[t * d + i] * std::sqrt(float(d));
  for (std::uint32_t il = 0; il < active; ++il)
    for (double& x : u) x *= w("blk." + std::to_string(il) + ".layer_output_scale.weight")[0];

  // The active layer's attention, reading the target's last layer of its kind.
  const bool sliding = dh.is_sliding[active];
  std::uint32_t tl = th.n_layer - 1;
  while (th.is_sliding[tl] != sliding) --tl;
  const LayerHParams lp = th.layer(tl);
  const ref::ReferenceModel::LayerKv& c = kv[tl];
  const std::uint32_t H = dh.n_head, hd = lp.head_dim, Hkv = lp.n_kv_heads;
  std::vector<double> a = u;
  norm(a, w(p + "attn_norm.weight"));
  const std::vector<float> wq = w(p + "attn_q.weight"), qn = w(p + "attn_q_norm.weight"),
                           wo = w(p + "attn_output.weight");
  const std::vector<float> ff = sliding ? std::vector<float>() : w("rope_freqs.weight");
  const std::uint32_t first = sliding && P >= th.sliding_window ? P - th.sliding_window + 1 : 0;
  std::vector<double> o(H * hd);
  for (std::uint32_t hq = 0; hq < H; ++hq) {
    std::vector<double> q(hd);
    for (std::uint32_t i = 0; i < hd; ++i)
      for (std::uint32_t k = 0; k < h; ++k) q[i] += double{wq[(hq * hd + i) * h + k]} * a[k];
    norm(q, qn);
    std::vector<float> qf(q.begin(), q.end());
    ref::rope_neox(qf, P, lp.rope_base, lp.rope_dims, ff);
    const std::uint32_t g = hq / (H / Hkv);
    std::vector<double> sc;
    double mx = -INFINITY, sum = 0;
    for (std::uint32_t pk = first; pk < P; ++pk) {
      double x = 0;
      for (std::uint32_t i = 0; i < hd; ++i) x += double{qf[i]} * c.k[(pk * Hkv + g) * hd + i];
      sc.push_back(x);
      mx = std::max(mx, x);
    }
    for (double& x : sc) sum += (x = std::exp(x - mx));
    for (std::uint32_t pk = first; pk < P; ++pk)
      for (std::uint32_t i = 0; i < hd; ++i) o[hq * hd + i] += sc[pk - first] / sum * c.v[(pk * Hkv + g) * hd + i];
  }
  std::vector<double> proj(h);
  for (std::uint32_t k = 0; k < h; ++k)
    for (std::uint32_t i = 0; i < H * hd; ++i) proj[k] += double{wo[k * H * hd + i]} * o[i];
  norm(proj, w(p + "post_attention_norm.weight"));
  for (std::uint32_t k = 0; k < h; ++k) u[k] += proj[k];
  for (std::uint32_t il = active; il < dh.n_layer; ++il)
    for (double& x : u) x *= w("blk." + std::to_string(il) + ".layer_output_scale.weight")[0];
  norm(u, w("output_norm.weight"));

  const std::vector<float> head = w("token_embd.weight");
  for (std::uint32_t j = 0; j < V; ++j) {
    double z = 0;
    for (std::uint32_t k = 0; k < h; ++k) z += double{head[j * h + k]} * u[k];
    ASSERT_NEAR(st.logits[j], z, 1e-4 * (1 + std::fabs(z)))
        << "active layer " << active << ", P " << P << ", token " << j;
  }
}

TEST(ReferenceDrafter, OneActiveLayerMatchesANaiveLoop) {
  check_one_active_layer(3, 9);   // global: target layer 5, keys 0..8, rope_freqs
  check_one_active_layer(1, 21);  // sliding: target layer 4, keys 6..20 (window 16)
  check_one_active_layer(0, 2);   // sliding, inside the window
}

TEST(ReferenceDrafter, EveryInputMatters) {
  const Prompt s(6);
  const ref::ReferenceDrafter::Step base = s.drafter.step(s.target, s.kv, 5, s.h(3), 4);
  EXPECT_GT(max_abs_diff(base.logits, s.drafter.step(s.target, s.kv, 6, s.h(3), 4).logits), 1e-3) << "token";
  EXPECT_GT(max_abs_diff(base.logits, s.drafter.step(s.target, s.kv, 5, s.h(2), 4).logits), 1e-3) << "hidden";
  EXPECT_GT(max_abs_diff(base.logits, s.drafter.step(s.target, s.kv, 5, s.h(3), 3).logits), 1e-3) << "position";
  EXPECT_EQ(base.logits, s.drafter.step(s.target, s.kv, 5, s.h(3), 4).logits) << "deterministic";
}

// At P = 1 every layer sees the single key 0: its softmax weight is 1 whatever the key, so only
// the value counts; rows >= P are never read.
TEST(ReferenceDrafter, FirstPositionSeesExactlyOneKey) {
  const Prompt s(6);
  const std::uint32_t t = 9;
  const ref::ReferenceDrafter::Step base = s.drafter.step(s.target, s.kv, t, s.h(0), 1);
  const std::uint32_t sl = s.drafter.target_layer(s.target, 0), gl = s.drafter.target_layer(s.target, 3);
  EXPECT_EQ(sl, 4u);  // tiny: [S, S, S, S, S, F]
  EXPECT_EQ(gl, 5u);

  Kv keys = s.kv;  // other keys at position 0, anything at rows 1..
  for (const std::uint32_t l : {sl, gl}) {
    const std::size_t row_v = keys[l].n_kv_heads * keys[l].value_dim;
    for (std::size_t i = 0; i < keys[l].k.size(); ++i) keys[l].k[i] = std::cos(float(i)) * 3.0f;
    for (std::size_t i = row_v; i < keys[l].v.size(); ++i) keys[l].v[i] = -7.0f;
  }
  EXPECT_EQ(base.logits, s.drafter.step(s.target, keys, t, s.h(0), 1).logits);
  EXPECT_EQ(base.h_next, s.drafter.step(s.target, keys, t, s.h(0), 1).h_next);

  for (const std::uint32_t l : {sl, gl}) {  // the value at position 0 does count
    Kv values0 = s.kv;
    values0[l].v[0] += 0.5f;
    EXPECT_GT(max_abs_diff(base.logits, s.drafter.step(s.target, values0, t, s.h(0), 1).logits), 1e-4) << "layer " << l;
  }
  Kv other = s.kv;  // layers the drafter does not read
  for (std::uint32_t l = 0; l < sl; ++l) std::fill(other[l].v.begin(), other[l].v.end(), 1.0f);
  EXPECT_EQ(base.logits, s.drafter.step(s.target, other, t, s.h(0), 1).logits);
}

// Past the window a sliding layer sees keys P-window+1 .. P-1 only (window - 1 of them); the
// global layer sees 0 .. P-1.
TEST(ReferenceDrafter, SlidingLayersSeeTheLastWindowMinusOneKeys) {
  const Prompt s(26);
  const std::uint32_t window = s.target.hparams().sliding_window, P = window + 4, t = 3;
  ASSERT_EQ(window, 16u);
  const std::uint32_t sl = s.drafter.target_layer(s.target, 0), gl = s.drafter.target_layer(s.target, 3);
  const ref::ReferenceDrafter::Step base = s.drafter.step(s.target, s.kv, t, s.h(P - 1), P);
  const auto changed = [&](std::uint32_t layer, std::size_t pos, bool key) {
    Kv kv = s.kv;
    const ref::ReferenceModel::LayerKv& l = kv[layer];
    std::vector<float>& x = key ? kv[layer].k : kv[layer].v;
    const std::size_t width = l.n_kv_heads * (key ? l.head_dim : l.value_dim);
    for (std::size_t i = 0; i < width; ++i) x[pos * width + i] = 2.0f * std::sin(float(i) + 1.0f);
    return max_abs_diff(base.logits, s.drafter.step(s.target, kv, t, s.h(P - 1), P).logits);
  };
  const std::size_t oldest = P - window + 1;  // 5
  EXPECT_EQ(changed(sl, oldest - 1, false), 0.0) << "value just outside the window";
  EXPECT_EQ(changed(sl, oldest - 1, true), 0.0) << "key just outside the window";
  EXPECT_EQ(changed(sl, 0, false), 0.0) << "value at 0";
  EXPECT_GT(changed(sl, oldest, false), 1e-4) << "oldest value in the window";
  EXPECT_GT(changed(sl, P - 1, true), 1e-4) << "newest key";
  EXPECT_EQ(changed(sl, P, false), 0.0) << "the proposal's own row";
  EXPECT_GT(changed(gl, 0, false), 1e-4) << "global layer, value at 0";
  EXPECT_EQ(changed(gl, P + 1, false), 0.0) << "global layer, past P";
}

// Spec §8.3: arch gemma4_assistant with {arch}.n_embd_backbone, mtp.* and mtp_*_proj names.
TEST(ReferenceDrafter, AcceptsTheNamingVariants) {
  const Prompt s(7);
  const ref::ReferenceDrafter::Step base = s.drafter.step(s.target, s.kv, 11, s.h(5), 6);
  struct Variant {
    const char* arch;
    const char* backbone_key;
    const char* pre;
    const char* post;
  };
  for (const Variant& v :
       {Variant{"gemma4-assistant", "embedding_length_out", "mtp.pre_projection", "mtp.post_projection"},
        Variant{"gemma4_assistant", "n_embd_backbone", "mtp_pre_proj", "mtp_post_proj"},
        Variant{"gemma4_assistant", "embedding_length_out", "nextn.pre_projection", "nextn.post_projection"}}) {
    const fs::path path = s.files.dir / (std::string(v.pre) + ".gguf");
    GgufEdit e;
    e.key = [&](const std::string& key) {
      const std::string from = "gemma4-assistant.";
      if (key.rfind(from, 0) != 0) return key;
      std::string rest = key.substr(from.size());
      if (rest == "embedding_length_out") rest = v.backbone_key;
      return std::string(v.arch) + "." + rest;
    };
    e.metadata = [&](gguf::Writer& w) { w.set_string("general.architecture", v.arch); };
    e.tensor = [&](const std::string& name) {
      if (name == "nextn.pre_projection.weight") return std::string(v.pre) + ".weight";
      if (name == "nextn.post_projection.weight") return std::string(v.post) + ".weight";
      return name;
    };
    rewrite_gguf(s.files.drafter, path, e);
    const ref::ReferenceDrafter d = ref::ReferenceDrafter::load(path);
    EXPECT_EQ(d.hparams().arch, v.arch);
    EXPECT_EQ(d.hparams().n_embd_backbone, s.target.hparams().n_embd);
    const ref::ReferenceDrafter::Step st = d.step(s.target, s.kv, 11, s.h(5), 6);
    EXPECT_EQ(st.logits, base.logits) << v.pre;
    EXPECT_EQ(st.h_next, base.h_next) << v.pre;
  }
}

void expect_error(const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error, expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[reference-drafter]"), std::string::npos) << e.what();
  }
}

TEST(ReferenceDrafter, ClearErrors) {
  const Prompt s(6);
  expect_error([&] { ref::ReferenceDrafter::load(s.files.model); }, "not an MTP drafter");

  const fs::path no_q_norm = s.files.dir / "no_q_norm.gguf";
  GgufEdit drop;
  drop.drop = "blk.2.attn_q_norm.weight";
  rewrite_gguf(s.files.drafter, no_q_norm, drop);
  expect_error([&] { ref::ReferenceDrafter::load(no_q_norm); }, "'blk.2.attn_q_norm.weight' is missing");

  const fs::path no_pre = s.files.dir / "no_pre.gguf";
  drop.drop = "nextn.pre_projection.weight";  // the backbone width still comes from embedding_length_out
  rewrite_gguf(s.files.drafter, no_pre, drop);
  expect_error([&] { ref::ReferenceDrafter::load(no_pre); }, "mtp_pre_proj.weight is missing");

  // A drafter made for a 128-wide target next to the 64-wide one.
  factory::FactoryOptions wide = tiny_options();
  wide.preset.text.n_embd = 128;
  const fs::path wide_path = s.files.dir / "wide.gguf";
  factory::write_drafter(wide, wide_path);
  const ref::ReferenceDrafter w = ref::ReferenceDrafter::load(wide_path);
  EXPECT_EQ(w.hparams().n_embd_backbone, 128u);
  expect_error([&] { w.step(s.target, s.kv, 1, s.h(0), 1); }, "backbone width (embedding_length_out) is 128");

  const ref::ReferenceDrafter& d = s.drafter;
  expect_error([&] { d.step(s.target, s.kv, 1, s.h(0), 0); }, "P = 0");
  expect_error([&] { d.step(s.target, s.kv, 1, s.h(0), 7); }, "needs 7");
  expect_error([&] { d.step(s.target, s.kv, s.target.hparams().n_vocab, s.h(0), 1); }, "outside the vocabulary");
  const std::vector<float> short_h(10);
  expect_error([&] { d.step(s.target, s.kv, 1, short_h, 1); }, "h has 10 values");
  const Kv fewer(s.kv.begin(), s.kv.end() - 1);
  expect_error([&] { d.step(s.target, fewer, 1, s.h(0), 1); }, "target_kv has 5 layers");
}

}  // namespace
}  // namespace tessera
