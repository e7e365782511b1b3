#include "runtime/model/gemma4_weights.h"

#include "engine/error.h"
#include "engine/transfer.h"
#include "runtime/quant/dequant.h"
#include "engine/platform/console.h"

namespace tessera {
namespace {

// Looks tensors up and checks them before anything is uploaded.
class Checker {
 public:
  explicit Checker(const gguf::File& f) : f_(f) {}
  const gguf::TensorInfo& get(const std::string& name, std::vector<std::uint64_t> ne) const {
    return require_tensor(f_, name, std::move(ne), "weights");
  }
  const gguf::TensorInfo* optional(const std::string& name) const { return f_.find_tensor(name); }

 private:
  const gguf::File& f_;
};

}  // namespace

Gemma4Weights load_gemma4_weights(Context& ctx, const gguf::File& file, const Gemma4HParams& hp,
                                  const LoadProgress& progress, std::uint64_t max_chunk) {
  const Checker c(file);
  const std::uint64_t d = hp.n_embd;
  // Pass 1: check everything (a bad file fails before minutes of uploading).
  struct LayerInfos {
    const gguf::TensorInfo *attn_norm, *q, *k, *v, *q_norm, *k_norm, *o, *post_attn, *ffn_norm, *gate, *up, *down,
        *post_ffw, *scale;
  };
  std::vector<LayerInfos> infos;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::uint64_t q_w = std::uint64_t{l.n_head} * l.head_dim, kv_w = std::uint64_t{l.n_kv_heads} * l.head_dim;
    if (l.value_dim != l.head_dim)
      throw Error("[weights] " + path_to_utf8(file.path()) + ": layer " + std::to_string(il) + " has value width " +
                  std::to_string(l.value_dim) + " != key width " + std::to_string(l.head_dim) + " (unsupported)");
    LayerInfos li{};
    li.attn_norm = &c.get(p + "attn_norm.weight", {d});
    li.q = &c.get(p + "attn_q.weight", {d, q_w});
    li.k = &c.get(p + "attn_k.weight", {d, kv_w});
    li.v = c.optional(p + "attn_v.weight");
    if (li.v) c.get(li.v->name, {d, kv_w});
    else if (l.is_sliding)
      throw Error("[weights] " + path_to_utf8(file.path()) + ": tensor '" + p +
                  "attn_v.weight' is missing (only global layers share K as V)");
    li.q_norm = &c.get(p + "attn_q_norm.weight", {l.head_dim});
    li.k_norm = &c.get(p + "attn_k_norm.weight", {l.head_dim});
    li.o = &c.get(p + "attn_output.weight", {q_w, d});
    li.post_attn = &c.get(p + "post_attention_norm.weight", {d});
    li.ffn_norm = &c.get(p + "ffn_norm.weight", {d});
    li.gate = &c.get(p + "ffn_gate.weight", {d, l.n_ff});
    li.up = &c.get(p + "ffn_up.weight", {d, l.n_ff});
    li.down = &c.get(p + "ffn_down.weight", {l.n_ff, d});
    li.post_ffw = &c.get(p + "post_ffw_norm.weight", {d});
    li.scale = c.optional(p + "layer_output_scale.weight");
    if (li.scale) c.get(li.scale->name, {1});
    infos.push_back(li);
  }
  const gguf::TensorInfo& embd = c.get("token_embd.weight", {d, hp.n_vocab});
  const gguf::TensorInfo& out_norm = c.get("output_norm.weight", {d});
  const gguf::TensorInfo* freqs = c.optional("rope_freqs.weight");
  if (freqs) c.get(freqs->name, {hp.rope_dims / 2});
  if (c.optional("output.weight"))
    throw Error("[weights] " + path_to_utf8(file.path()) +
                ": has an untied 'output.weight'; Gemma 4 ties the output head to token_embd (unsupported)");

  // Pass 2: upload.
  const std::size_t total = 3 + infos.size() * 14;
  std::size_t done = 0;
  Gemma4Weights w;
  auto matrix = [&](const gguf::TensorInfo& t) {
    GpuTensor g = upload_tensor(ctx, file, t, max_chunk);
    w.bytes += t.n_bytes;
    if (progress) progress(++done, total, w.bytes);
    return g;
  };
  auto vector = [&](const gguf::TensorInfo& t) {
    Buffer b = upload_floats(ctx, file, t);
    w.bytes += t.n_bytes;
    if (progress) progress(++done, total, w.bytes);
    return b;
  };
  w.token_embd = matrix(embd);
  w.output_norm = vector(out_norm);
  w.rope_freqs = freqs ? tensor_floats(file, *freqs) : std::vector<float>(hp.rope_dims / 2, 1.0f);
  if (progress) progress(++done, total, w.bytes);
  for (const LayerInfos& li : infos) {
    Gemma4LayerWeights& lw = w.layers.emplace_back();
    lw.attn_norm = vector(*li.attn_norm);
    lw.attn_q = matrix(*li.q);
    lw.attn_k = matrix(*li.k);
    if (li.v) lw.attn_v = matrix(*li.v);
    else if (progress) progress(++done, total, w.bytes);
    lw.attn_q_norm = vector(*li.q_norm);
    lw.attn_k_norm = vector(*li.k_norm);
    lw.attn_output = matrix(*li.o);
    lw.post_attention_norm = vector(*li.post_attn);
    lw.ffn_norm = vector(*li.ffn_norm);
    lw.ffn_gate = matrix(*li.gate);
    lw.ffn_up = matrix(*li.up);
    lw.ffn_down = matrix(*li.down);
    lw.post_ffw_norm = vector(*li.post_ffw);
    lw.output_scale = li.scale ? tensor_floats(file, *li.scale)[0] : 1.0f;
    if (progress) progress(++done, total, w.bytes);
  }
  return w;
}

}  // namespace tessera
