// One MTP drafting step on the CPU, step by step as docs/gemma4-spec.md §7.2 describes it, with
// the masks of §7.2 ("which keys the drafter sees") over the target's cache.
#include "common/reference_drafter.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>

#include "common/reference_util.h"
#include "runtime/gguf/gguf.h"

namespace tessera::ref {
namespace {

// The accepted names of the projections (spec §8.3), upstream llama.cpp's first.
constexpr std::initializer_list<const char*> kPreNames = {"nextn.pre_projection.weight", "mtp.pre_projection.weight",
                                                          "mtp_pre_proj.weight"};
constexpr std::initializer_list<const char*> kPostNames = {"nextn.post_projection.weight", "mtp.post_projection.weight",
                                                           "mtp_post_proj.weight"};

// The first of `names` the file has.
Matrix matrix_any(const Reader& r, std::initializer_list<const char*> names, std::uint32_t n_in, std::uint32_t n_out) {
  for (const char* name : names)
    if (r.has(name)) return r.matrix(name, n_in, n_out);
  std::string all;
  for (const char* name : names) all += (all.empty() ? "" : " / ") + std::string(name);
  r.fail("tensor " + all + " is missing");
}

}  // namespace

// ---- loading ----

ReferenceDrafter ReferenceDrafter::load(const std::filesystem::path& path) {
  const gguf::File f = gguf::File::open(path);
  const Reader r(f, "reference-drafter");
  if (!is_gemma4_arch(f.architecture()) || f.architecture() == "gemma4")
    r.fail("general.architecture is '" + f.architecture() +
           "': a text model, not an MTP drafter (gemma4-assistant / gemma4_assistant)");
  ReferenceDrafter m;
  m.path_ = path;
  m.hp_ = read_gemma4_hparams(f);
  const Gemma4HParams& hp = m.hp_;
  const std::uint32_t h = hp.n_embd, d = hp.n_embd_backbone;

  m.token_embd_ = r.tensor("token_embd.weight", {h, hp.n_vocab});
  m.output_norm_ = r.tensor("output_norm.weight", {h});
  if (hp.n_global_layers() > 0) m.rope_freqs_ = r.tensor("rope_freqs.weight", {hp.rope_dims / 2});
  m.pre_ = matrix_any(r, kPreNames, 2 * d, h);
  m.post_ = matrix_any(r, kPostNames, h, d);

  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams lp = hp.layer(il);
    const std::string p = "blk." + std::to_string(il) + ".";
    Layer l;
    l.attn_norm = r.tensor(p + "attn_norm.weight", {h});
    l.wq = r.matrix(p + "attn_q.weight", h, lp.n_head * lp.head_dim);
    l.q_norm = r.tensor(p + "attn_q_norm.weight", {lp.head_dim});
    l.wo = r.matrix(p + "attn_output.weight", lp.n_head * lp.value_dim, h);
    l.post_attn_norm = r.tensor(p + "post_attention_norm.weight", {h});
    l.ffn_norm = r.tensor(p + "ffn_norm.weight", {h});
    l.gate = r.matrix(p + "ffn_gate.weight", h, lp.n_ff);
    l.up = r.matrix(p + "ffn_up.weight", h, lp.n_ff);
    l.down = r.matrix(p + "ffn_down.weight", lp.n_ff, h);
    l.post_ffw_norm = r.tensor(p + "post_ffw_norm.weight", {h});
    l.out_scale = r.tensor(p + "layer_output_scale.weight", {1})[0];
    m.layers_.push_back(std::move(l));
  }
  return m;
}

void ReferenceDrafter::fail(const std::string& msg) const { ref::fail("reference-drafter", path_, msg); }

std::uint32_t ReferenceDrafter::target_layer(const ReferenceModel& target, std::uint32_t il) const {
  const Gemma4HParams& thp = target.hparams();
  const bool sliding = hp_.layer(il).is_sliding;
  for (std::uint32_t tl = thp.n_layer; tl-- > 0;)
    if (thp.is_sliding[tl] == sliding) return tl;
  fail("layer " + std::to_string(il) + " is " + (sliding ? "sliding" : "global") + " but the target has no " +
       (sliding ? "sliding" : "global") + " layer");
}

void ReferenceDrafter::check(const ReferenceModel& target, const std::vector<ReferenceModel::LayerKv>& target_kv,
                             std::uint32_t t, std::span<const float> h, std::uint32_t P) const {
  const Gemma4HParams& thp = target.hparams();
  if (hp_.n_embd_backbone != thp.n_embd)
    fail("backbone width (embedding_length_out) is " + std::to_string(hp_.n_embd_backbone) +
         " but the target's n_embd is " + std::to_string(thp.n_embd));
  if (hp_.n_vocab != thp.n_vocab)
    fail("vocabulary of " + std::to_string(hp_.n_vocab) + " tokens, the target's has " + std::to_string(thp.n_vocab));
  if (target_kv.size() != thp.n_layer)
    fail("target_kv has " + std::to_string(target_kv.size()) + " layers, the target " + std::to_string(thp.n_layer));
  if (h.size() != thp.n_embd)
    fail("h has " + std::to_string(h.size()) + " values, expected the target's n_embd " + std::to_string(thp.n_embd));
  if (t >= thp.n_vocab) fail("token " + std::to_string(t) + " is outside the vocabulary");
  if (P == 0) fail("position P = 0: a drafting step reads the target's keys before P, there are none");
  if (hp_.n_sliding_layers() > 0 && thp.sliding_window < 2)
    fail("the target's sliding window " + std::to_string(thp.sliding_window) + " leaves a sliding layer no key");
  for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
    const LayerHParams lp = hp_.layer(il);
    const std::uint32_t tl = target_layer(target, il);
    const ReferenceModel::LayerKv& kv = target_kv[tl];
    const std::string where = "layer " + std::to_string(il) + " reads target layer " + std::to_string(tl);
    if (kv.head_dim != lp.head_dim || kv.value_dim != lp.value_dim || kv.n_kv_heads != lp.n_kv_heads)
      fail(where + " with " + std::to_string(kv.n_kv_heads) + " KV heads of " + std::to_string(kv.head_dim) + "/" +
           std::to_string(kv.value_dim) + " but expects " + std::to_string(lp.n_kv_heads) + " of " +
           std::to_string(lp.head_dim) + "/" + std::to_string(lp.value_dim));
    if (lp.n_head % lp.n_kv_heads != 0)
      fail(where + ": " + std::to_string(lp.n_head) + " query heads over " + std::to_string(lp.n_kv_heads) +
           " KV heads");
    const std::size_t rows = kv.k.size() / (static_cast<std::size_t>(kv.n_kv_heads) * kv.head_dim);
    if (rows < P || kv.v.size() != rows * kv.n_kv_heads * kv.value_dim)
      fail(where + " whose cache has " + std::to_string(rows) + " rows, position P = " + std::to_string(P) +
           " needs " + std::to_string(P));
  }
}

// ---- one drafting step (spec §7.2) ----

ReferenceDrafter::Step ReferenceDrafter::step(const ReferenceModel& target,
                                              const std::vector<ReferenceModel::LayerKv>& target_kv, std::uint32_t t,
                                              std::span<const float> h, std::uint32_t P) const {
  check(target, target_kv, t, h, P);
  const std::size_t w = hp_.n_embd;
  const double eps = hp_.rms_eps;

  // 1-2. x = the target's scaled embedding of t; u = pre_projection · (x ‖ h).
  const std::uint32_t ids[1] = {t};
  std::vector<float> z = target.residual(ids, 0);
  z.insert(z.end(), h.begin(), h.end());
  std::vector<float> u = matvec(pre_, z);  // [w]

  // 3. four decoder layers on u, attention over the target's cache.
  for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
    const Layer& l = layers_[il];
    std::vector<float> a = u;
    norm_slices(a, w, l.attn_norm, eps);
    std::vector<float> o = attention(il, target, target_kv[target_layer(target, il)], a, P);
    norm_slices(o, w, l.post_attn_norm, eps);
    for (std::size_t i = 0; i < w; ++i) u[i] += o[i];

    std::vector<float> f = u;
    norm_slices(f, w, l.ffn_norm, eps);
    const std::vector<float> gate = matvec(l.gate, f), up = matvec(l.up, f);
    std::vector<float> g(gate.size());
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(gelu_tanh(gate[i]) * up[i]);
    f = matvec(l.down, g);
    norm_slices(f, w, l.post_ffw_norm, eps);
    for (std::size_t i = 0; i < w; ++i) u[i] += f[i];
    for (float& x : u) x *= l.out_scale;
  }

  // 4-6. final norm, tied head (no soft-cap), argmax, post-projection.
  norm_slices(u, w, output_norm_, eps);
  Step s;
  s.logits.resize(hp_.n_vocab);
  for (std::size_t v = 0; v < hp_.n_vocab; ++v)
    s.logits[v] = static_cast<float>(dot(token_embd_.data() + v * w, u.data(), w));
  s.token = static_cast<std::uint32_t>(std::max_element(s.logits.begin(), s.logits.end()) - s.logits.begin());
  s.h_next = matvec(post_, u);
  return s;
}

// a [w] (normed) -> attention at position P over the target cache `kv`, projected to [w].
std::vector<float> ReferenceDrafter::attention(std::uint32_t il, const ReferenceModel& target,
                                               const ReferenceModel::LayerKv& kv, const std::vector<float>& a,
                                               std::uint32_t P) const {
  const Layer& l = layers_[il];
  const LayerHParams lp = hp_.layer(il);
  const LayerHParams tp = target.hparams().layer(target_layer(target, il));  // the target's RoPE of this kind
  const std::size_t H = lp.n_head, Hkv = kv.n_kv_heads, hd = kv.head_dim, vd = kv.value_dim, group = H / Hkv;
  const std::span<const float> ff = lp.is_sliding ? std::span<const float>() : std::span<const float>(rope_freqs_);

  std::vector<float> q = matvec(l.wq, a);  // [H, hd]
  norm_slices(q, hd, l.q_norm, hp_.rms_eps);
  for (std::size_t hq = 0; hq < H; ++hq)
    rope_neox(std::span<float>(q).subspan(hq * hd, hd), P, tp.rope_base, tp.rope_dims, ff);

  // Keys P-window+1 .. P-1 (sliding) or 0 .. P-1 (global); the proposal's own row is not there.
  const std::size_t window = target.hparams().sliding_window;
  const std::size_t first = lp.is_sliding && P >= window ? P - window + 1 : 0;
  std::vector<float> o(H * vd);
  std::vector<double> p(P), acc(vd);
  for (std::size_t hq = 0; hq < H; ++hq) {
    const std::size_t g = hq / group;
    double max = -std::numeric_limits<double>::infinity();
    for (std::size_t pk = first; pk < P; ++pk) {
      p[pk] = dot(q.data() + hq * hd, kv.k.data() + (pk * Hkv + g) * hd, hd);  // attention scale 1.0
      max = std::max(max, p[pk]);
    }
    double sum = 0;
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t pk = first; pk < P; ++pk) {
      const double e = std::exp(p[pk] - max);
      sum += e;
      const float* vk = kv.v.data() + (pk * Hkv + g) * vd;
      for (std::size_t i = 0; i < vd; ++i) acc[i] += e * vk[i];
    }
    for (std::size_t i = 0; i < vd; ++i) o[hq * vd + i] = static_cast<float>(acc[i] / sum);
  }
  return matvec(l.wo, o);
}

}  // namespace tessera::ref
