// Gemma 4 12B as the tests see it, written out from docs/gemma4-spec.md §1 / §8.1: its GGUF
// metadata on a GgufBuilder, its 667 tensor shapes, and its hyper-parameters filled in by hand.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "gguf/gguf_builder.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/hparams.h"

namespace tessera::test {

inline constexpr std::uint32_t kLayers12B = 48;
inline bool is_sliding_12b(std::uint32_t il) { return il % 6 != 5; }  // global at 5, 11, ..., 47

// The gemma4.* keys of the real 12B file (spec §8.1).
inline GgufBuilder& add_gemma4_12b_metadata(GgufBuilder& b) {
  std::vector<std::int32_t> kv;
  std::vector<bool> pattern;
  for (std::uint32_t il = 0; il < kLayers12B; ++il) {
    kv.push_back(is_sliding_12b(il) ? 8 : 1);
    pattern.push_back(is_sliding_12b(il));
  }
  b.kv_str("general.architecture", "gemma4")
      .kv_str("general.name", "Gemma 4 12B (test)")
      .kv_u32("gemma4.block_count", 48)
      .kv_u32("gemma4.context_length", 262144)
      .kv_u32("gemma4.embedding_length", 3840)
      .kv_u32("gemma4.feed_forward_length", 15360)
      .kv_u32("gemma4.attention.head_count", 16)
      .kv_array("gemma4.attention.head_count_kv", kI32, kv)
      .kv_u32("gemma4.attention.key_length", 512)
      .kv_u32("gemma4.attention.value_length", 512)
      .kv_u32("gemma4.attention.key_length_swa", 256)
      .kv_u32("gemma4.attention.value_length_swa", 256)
      .kv_f32("gemma4.attention.layer_norm_rms_epsilon", 1e-6f)
      .kv_u32("gemma4.attention.sliding_window", 1024)
      .kv_bool_array("gemma4.attention.sliding_window_pattern", pattern)
      .kv_u32("gemma4.attention.shared_kv_layers", 0)
      .kv_u32("gemma4.embedding_length_per_layer_input", 0)
      .kv_f32("gemma4.final_logit_softcapping", 30.0f)
      .kv_u32("gemma4.rope.dimension_count", 512)
      .kv_u32("gemma4.rope.dimension_count_swa", 256)
      .kv_f32("gemma4.rope.freq_base", 1e6f)
      .kv_f32("gemma4.rope.freq_base_swa", 1e4f);
  return b;
}

struct TensorShape {
  std::string name;
  std::vector<std::uint64_t> ne;
  bool matrix;  // 2-D weight (quantized in real files); norms and scalars stay F32
};

// The 667 tensors of the 12B text model (3 + 40 × 14 + 8 × 13).
inline std::vector<TensorShape> gemma4_12b_shapes() {
  std::vector<TensorShape> s = {{"token_embd.weight", {3840, 262144}, true},
                                {"output_norm.weight", {3840}, false},
                                {"rope_freqs.weight", {256}, false}};
  for (std::uint32_t il = 0; il < kLayers12B; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const bool sl = is_sliding_12b(il);
    const std::uint64_t hd = sl ? 256 : 512, q = 16 * hd, kv = (sl ? 8 : 1) * hd;
    s.push_back({p + "attn_norm.weight", {3840}, false});
    s.push_back({p + "attn_q.weight", {3840, q}, true});
    s.push_back({p + "attn_k.weight", {3840, kv}, true});
    if (sl) s.push_back({p + "attn_v.weight", {3840, kv}, true});
    s.push_back({p + "attn_q_norm.weight", {hd}, false});
    s.push_back({p + "attn_k_norm.weight", {hd}, false});
    s.push_back({p + "attn_output.weight", {q, 3840}, true});
    s.push_back({p + "post_attention_norm.weight", {3840}, false});
    s.push_back({p + "ffn_norm.weight", {3840}, false});
    s.push_back({p + "ffn_gate.weight", {3840, 15360}, true});
    s.push_back({p + "ffn_up.weight", {3840, 15360}, true});
    s.push_back({p + "ffn_down.weight", {15360, 3840}, true});
    s.push_back({p + "post_ffw_norm.weight", {3840}, false});
    s.push_back({p + "layer_output_scale.weight", {1}, false});
  }
  return s;
}

// TensorInfos (offsets packed at 32 bytes) with matrices in `matrix_type`, the rest F32.
inline std::vector<gguf::TensorInfo> gemma4_12b_tensors(DType matrix_type) {
  std::vector<gguf::TensorInfo> out;
  std::uint64_t off = 0;
  for (const TensorShape& s : gemma4_12b_shapes()) {
    gguf::TensorInfo t;
    t.name = s.name;
    t.type = s.matrix ? matrix_type : DType::F32;
    t.ne = s.ne;
    t.n_elements = 1;
    for (const std::uint64_t d : s.ne) t.n_elements *= d;
    t.n_bytes = dtype_bytes(t.type, t.n_elements);
    t.offset = off;
    off += (t.n_bytes + 31) / 32 * 32;
    out.push_back(std::move(t));
  }
  return out;
}

// Hyper-parameters of the 12B, typed in from spec §1.
inline Gemma4HParams gemma4_12b_hparams() {
  Gemma4HParams h;
  h.arch = "gemma4";
  h.n_layer = 48;
  h.n_ctx_train = 262144;
  h.n_embd = 3840;
  h.n_head = 16;
  for (std::uint32_t il = 0; il < kLayers12B; ++il) {
    h.n_head_kv.push_back(is_sliding_12b(il) ? 8 : 1);
    h.n_ff.push_back(15360);
    h.is_sliding.push_back(is_sliding_12b(il));
  }
  h.head_dim = h.value_dim = 512;
  h.head_dim_swa = h.value_dim_swa = 256;
  h.sliding_window = 1024;
  h.rope_base = 1e6f;
  h.rope_base_swa = 1e4f;
  h.rope_dims = 512;
  h.rope_dims_swa = 256;
  h.rms_eps = 1e-6f;
  h.final_logit_softcap = 30.0f;
  h.n_vocab = 262144;
  return h;
}

}  // namespace tessera::test
