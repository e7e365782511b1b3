// Scalar CPU forward of the Gemma 4 text decoder, step by step as docs/gemma4-spec.md §2.1-§2.4
// and §3 (text: causal, plus the sliding window on sliding layers) describe it.
#include "common/reference_forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "common/reference_util.h"
#include "runtime/gguf/gguf.h"

namespace tessera::ref {
namespace {

// y[T, n_out] = x[T, n_in] · Wᵀ: y[t][r] = dot(row r of W, x[t]).
std::vector<float> matmul(const Matrix& m, const std::vector<float>& x, std::size_t T) {
  std::vector<float> y(T * m.n_out);
  for (std::size_t r = 0; r < m.n_out; ++r) {
    const float* row = m.w.data() + r * m.n_in;
    for (std::size_t t = 0; t < T; ++t) y[t * m.n_out + r] = static_cast<float>(dot(row, x.data() + t * m.n_in, m.n_in));
  }
  return y;
}

}  // namespace

// ---- building blocks ----

void rms_norm(std::span<float> x, std::span<const float> w, double eps) {
  double ss = 0;
  for (const float v : x) ss += static_cast<double>(v) * v;
  const double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(x[i] * inv * (w.empty() ? 1.0 : static_cast<double>(w[i])));
}

void rope_neox(std::span<float> x, std::uint32_t pos, double base, std::uint32_t rope_dims,
               std::span<const float> freq_factors) {
  const std::uint32_t half = rope_dims / 2;
  for (std::uint32_t j = 0; j < half; ++j) {
    const double ff = freq_factors.empty() ? 1.0 : static_cast<double>(freq_factors[j]);
    const double angle = pos * std::pow(base, -2.0 * j / rope_dims) / ff;
    const double c = std::cos(angle), s = std::sin(angle);
    const double x0 = x[j], x1 = x[j + half];
    x[j] = static_cast<float>(x0 * c - x1 * s);
    x[j + half] = static_cast<float>(x0 * s + x1 * c);
  }
}

double gelu_tanh(double x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

// ---- loading ----

ReferenceModel ReferenceModel::load(const std::filesystem::path& gguf_path) {
  const gguf::File f = gguf::File::open(gguf_path);
  const Reader r(f, "reference");
  ReferenceModel m;
  m.path_ = gguf_path;
  m.hp_ = read_gemma4_hparams(f);
  const Gemma4HParams& hp = m.hp_;
  if (hp.is_assistant) r.fail("is an MTP drafter (" + hp.arch + "), not a text model");
  if (hp.n_embd_per_layer != 0) r.fail("per-layer embeddings (PLE) are not covered by the reference");
  if (hp.n_shared_kv_layers != 0) r.fail("shared-KV layers are not covered by the reference");
  const std::uint32_t d = hp.n_embd;

  m.token_embd_ = r.tensor("token_embd.weight", {d, hp.n_vocab});
  if (r.has("output.weight")) m.output_ = r.tensor("output.weight", {d, hp.n_vocab});
  m.output_norm_ = r.tensor("output_norm.weight", {d});
  if (hp.n_global_layers() > 0) m.rope_freqs_ = r.tensor("rope_freqs.weight", {hp.rope_dims / 2});

  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams lp = hp.layer(il);
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::uint32_t q_out = lp.n_head * lp.head_dim, o_in = lp.n_head * lp.value_dim;
    Layer l;
    l.attn_norm = r.tensor(p + "attn_norm.weight", {d});
    l.wq = r.matrix(p + "attn_q.weight", d, q_out);
    l.wk = r.matrix(p + "attn_k.weight", d, lp.n_kv_heads * lp.head_dim);
    if (r.has(p + "attn_v.weight"))
      l.wv = r.matrix(p + "attn_v.weight", d, lp.n_kv_heads * lp.value_dim);
    else if (lp.value_dim != lp.head_dim)
      r.fail("layer " + std::to_string(il) + " has no attn_v (V = K) but value_length " +
             std::to_string(lp.value_dim) + " != key_length " + std::to_string(lp.head_dim));
    l.q_norm = r.tensor(p + "attn_q_norm.weight", {lp.head_dim});
    l.k_norm = r.tensor(p + "attn_k_norm.weight", {lp.head_dim});
    l.wo = r.matrix(p + "attn_output.weight", o_in, d);
    l.post_attn_norm = r.tensor(p + "post_attention_norm.weight", {d});
    l.ffn_norm = r.tensor(p + "ffn_norm.weight", {d});
    l.gate = r.matrix(p + "ffn_gate.weight", d, lp.n_ff);
    l.up = r.matrix(p + "ffn_up.weight", d, lp.n_ff);
    l.down = r.matrix(p + "ffn_down.weight", lp.n_ff, d);
    l.post_ffw_norm = r.tensor(p + "post_ffw_norm.weight", {d});
    l.out_scale = r.tensor(p + "layer_output_scale.weight", {1})[0];
    m.layers_.push_back(std::move(l));
  }

  if (f.has("tokenizer.ggml.suppress_tokens"))
    for (const std::int64_t id : f.get_int_array("tokenizer.ggml.suppress_tokens"))
      if (id >= 0 && id < static_cast<std::int64_t>(hp.n_vocab)) m.suppress_.push_back(static_cast<std::uint32_t>(id));
  return m;
}

// ---- forward (spec §2.1) ----

std::vector<float> ReferenceModel::forward(std::span<const std::uint32_t> ids, std::span<const Block> blocks,
                                           std::span<const EmbedRows> embeds) const {
  return logits_from_hidden(hidden_states(ids, blocks, embeds));
}

std::vector<float> ReferenceModel::hidden_states(std::span<const std::uint32_t> ids, std::span<const Block> blocks,
                                                 std::span<const EmbedRows> embeds) const {
  std::vector<float> h = residual(ids, hp_.n_layer, blocks, embeds);
  norm_slices(h, hp_.n_embd, output_norm_, hp_.rms_eps);  // 3. final norm
  return h;
}

std::vector<float> ReferenceModel::residual(std::span<const std::uint32_t> ids, std::uint32_t n_layers,
                                            std::span<const Block> blocks, std::span<const EmbedRows> embeds) const {
  if (n_layers > hp_.n_layer)
    fail("reference", path_, "asked for " + std::to_string(n_layers) + " layers of " + std::to_string(hp_.n_layer));
  const std::vector<std::size_t> last = last_keys(ids.size(), blocks);
  std::vector<float> h = embed(ids, embeds);                                      // 1. embed
  for (std::uint32_t il = 0; il < n_layers; ++il) run_layer(il, h, ids.size(), last);  // 2. decoder layers
  return h;
}

std::vector<ReferenceModel::LayerKv> ReferenceModel::kv(std::span<const std::uint32_t> ids,
                                                        std::span<const Block> blocks,
                                                        std::span<const EmbedRows> embeds) const {
  const std::vector<std::size_t> last = last_keys(ids.size(), blocks);
  std::vector<LayerKv> out(hp_.n_layer);
  std::vector<float> h = embed(ids, embeds);
  for (std::uint32_t il = 0; il < hp_.n_layer; ++il) run_layer(il, h, ids.size(), last, &out[il]);
  return out;
}

std::vector<std::size_t> ReferenceModel::last_keys(std::size_t T, std::span<const Block> blocks) const {
  std::vector<std::size_t> last(T);
  for (std::size_t t = 0; t < T; ++t) last[t] = t;
  for (const Block& b : blocks)
    for (std::size_t t = b.begin; t < b.end && t < T; ++t) last[t] = std::min(b.end, T) - 1;
  return last;
}

std::vector<float> ReferenceModel::logits_from_hidden(std::span<const float> hidden) const {
  const std::size_t d = hp_.n_embd, V = hp_.n_vocab, T = hidden.size() / d;
  const std::vector<float>& head = output_.empty() ? token_embd_ : output_;  // 4. tied LM head
  const double cap = hp_.final_logit_softcap;
  std::vector<float> logits(T * V);
  for (std::size_t v = 0; v < V; ++v) {
    const float* row = head.data() + v * d;
    for (std::size_t t = 0; t < T; ++t) {
      const double z = dot(row, hidden.data() + t * d, d);
      logits[t * V + v] = static_cast<float>(cap > 0 ? cap * std::tanh(z / cap) : z);  // 5. soft-cap
    }
  }
  for (const std::uint32_t id : suppress_)  // 6. suppression
    for (std::size_t t = 0; t < T; ++t) logits[t * V + id] = -std::numeric_limits<float>::infinity();
  return logits;
}

// x[t] = E[ids[t]] · sqrt(n_embd), the scale as f32 sqrtf(n_embd) (llama.cpp; HF rounds it to bf16);
// then each EmbedRows block overwrites its positions with its rows, unscaled (spec Appendix A).
std::vector<float> ReferenceModel::embed(std::span<const std::uint32_t> ids, std::span<const EmbedRows> embeds) const {
  const std::size_t d = hp_.n_embd, T = ids.size();
  const auto fail = [&](const std::string& msg) { ref::fail("reference", path_, msg); };
  std::vector<bool> injected(T, false);
  for (const EmbedRows& e : embeds) {
    if (e.rows.size() % d != 0)
      fail("injected rows at " + std::to_string(e.begin) + " have " + std::to_string(e.rows.size()) +
           " values, not a multiple of n_embd " + std::to_string(d));
    const std::size_t n = e.rows.size() / d;
    if (e.begin > T || n > T - e.begin)
      fail("injected rows [" + std::to_string(e.begin) + ", " + std::to_string(e.begin + n) + ") run past the " +
           std::to_string(T) + " tokens");
    for (std::size_t t = e.begin; t < e.begin + n; ++t) {
      if (injected[t]) fail("injected rows overlap at position " + std::to_string(t));
      injected[t] = true;
    }
  }
  const float scale = std::sqrt(static_cast<float>(hp_.n_embd));
  std::vector<float> x(T * d);
  for (std::size_t t = 0; t < T; ++t) {
    if (injected[t]) continue;
    if (ids[t] >= hp_.n_vocab)
      fail("token id " + std::to_string(ids[t]) + " at " + std::to_string(t) + " is outside the vocabulary of " +
           std::to_string(hp_.n_vocab));
    const float* e = token_embd_.data() + ids[t] * d;
    for (std::size_t i = 0; i < d; ++i) x[t * d + i] = e[i] * scale;
  }
  for (const EmbedRows& e : embeds)
    std::copy(e.rows.begin(), e.rows.end(), x.begin() + static_cast<std::ptrdiff_t>(e.begin * d));
  return x;
}

// ---- one decoder layer (spec §2.2) ----

void ReferenceModel::run_layer(std::uint32_t il, std::vector<float>& h, std::size_t T,
                               const std::vector<std::size_t>& last, LayerKv* kv) const {
  const Layer& l = layers_[il];
  const std::size_t d = hp_.n_embd;
  const double eps = hp_.rms_eps;

  std::vector<float> a = h;
  norm_slices(a, d, l.attn_norm, eps);            // 1. pre-attention norm
  std::vector<float> o = attention(il, a, T, last, kv);  // 2-11. attention + output projection
  norm_slices(o, d, l.post_attn_norm, eps);       // 12. post-attention norm, residual
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += o[i];

  std::vector<float> f = h;
  norm_slices(f, d, l.ffn_norm, eps);             // 13. pre-FFN norm
  f = ffn(l, f, T);                               // 14. GeGLU
  norm_slices(f, d, l.post_ffw_norm, eps);        // 15. post-FFN norm, residual
  for (std::size_t i = 0; i < h.size(); ++i) h[i] += f[i];

  for (float& x : h) x *= l.out_scale;            // 16. layer_output_scale on the whole stream
}

// a [T, n_embd] (normed) -> attention output projected back to [T, n_embd].
std::vector<float> ReferenceModel::attention(std::uint32_t il, const std::vector<float>& a, std::size_t T,
                                             const std::vector<std::size_t>& last, LayerKv* kv) const {
  const Layer& l = layers_[il];
  const LayerHParams lp = hp_.layer(il);
  const double eps = hp_.rms_eps;
  // Proportional RoPE factors on global layers only; sliding layers rotate plainly.
  const std::span<const float> ff = lp.is_sliding ? std::span<const float>() : std::span<const float>(rope_freqs_);

  std::vector<float> q = matmul(l.wq, a, T);                          // [T, H, hd]
  std::vector<float> k = matmul(l.wk, a, T);                          // [T, Hkv, hd], raw
  std::vector<float> v = l.wv.n_out ? matmul(l.wv, a, T) : k;         // [T, Hkv, vd]; global: V = raw K
  norm_slices(q, lp.head_dim, l.q_norm, eps);                         // QK-norm before RoPE
  norm_slices(k, lp.head_dim, l.k_norm, eps);
  norm_slices(v, lp.value_dim, {}, eps);                              // V-norm, no weight, no RoPE
  for (std::size_t t = 0; t < T; ++t) {
    const auto pos = static_cast<std::uint32_t>(t);
    for (std::size_t hq = 0; hq < lp.n_head; ++hq)
      rope_neox(std::span<float>(q).subspan((t * lp.n_head + hq) * lp.head_dim, lp.head_dim), pos, lp.rope_base,
                lp.rope_dims, ff);
    for (std::size_t hk = 0; hk < lp.n_kv_heads; ++hk)
      rope_neox(std::span<float>(k).subspan((t * lp.n_kv_heads + hk) * lp.head_dim, lp.head_dim), pos, lp.rope_base,
                lp.rope_dims, ff);
  }
  if (kv) *kv = LayerKv{lp.head_dim, lp.value_dim, lp.n_kv_heads, k, v};  // 9. what the cache holds
  return matmul(l.wo, attend(lp, q, k, v, T, last), T);
}

// softmax(q·kᵀ · 1.0 + mask) · v per query head; query head h reads KV head h / (n_head / n_kv).
// Key pk is visible to query pq iff pk <= pq and, on sliding layers, pq - pk < sliding_window;
// on sliding layers a token of a bidirectional block also sees its block's later tokens
// (pk <= last[pq]; the window still bounds pk from below). Global layers: causal only (spec §3).
std::vector<float> ReferenceModel::attend(const LayerHParams& lp, const std::vector<float>& q,
                                          const std::vector<float>& k, const std::vector<float>& v,
                                          std::size_t T, const std::vector<std::size_t>& last) const {
  const std::size_t H = lp.n_head, Hkv = lp.n_kv_heads, hd = lp.head_dim, vd = lp.value_dim;
  const std::size_t group = H / Hkv, window = hp_.sliding_window;
  std::vector<float> o(T * H * vd);
  std::vector<double> p(T), acc(vd);
  for (std::size_t pq = 0; pq < T; ++pq) {
    const std::size_t first = lp.is_sliding && pq + 1 > window ? pq + 1 - window : 0;
    const std::size_t end = lp.is_sliding ? last[pq] : pq;
    for (std::size_t h = 0; h < H; ++h) {
      const std::size_t g = h / group;
      const float* qh = q.data() + (pq * H + h) * hd;
      double max = -std::numeric_limits<double>::infinity();
      for (std::size_t pk = first; pk <= end; ++pk) {
        p[pk] = dot(qh, k.data() + (pk * Hkv + g) * hd, hd);  // attention scale 1.0
        max = std::max(max, p[pk]);
      }
      double sum = 0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::size_t pk = first; pk <= end; ++pk) {
        const double e = std::exp(p[pk] - max);
        sum += e;
        const float* vk = v.data() + (pk * Hkv + g) * vd;
        for (std::size_t i = 0; i < vd; ++i) acc[i] += e * vk[i];
      }
      for (std::size_t i = 0; i < vd; ++i) o[(pq * H + h) * vd + i] = static_cast<float>(acc[i] / sum);
    }
  }
  return o;
}

// f [T, n_embd] (normed) -> down(gelu_tanh(gate·f) ⊙ up·f) [T, n_embd].
std::vector<float> ReferenceModel::ffn(const Layer& l, const std::vector<float>& f, std::size_t T) const {
  const std::vector<float> gate = matmul(l.gate, f, T);  // [T, n_ff]
  const std::vector<float> up = matmul(l.up, f, T);      // [T, n_ff]
  std::vector<float> g(gate.size());
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = static_cast<float>(gelu_tanh(gate[i]) * up[i]);
  return matmul(l.down, g, T);
}

}  // namespace tessera::ref
