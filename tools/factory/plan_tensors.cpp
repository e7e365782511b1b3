// Tensor inventories of the three factory files (spec §8.1 main, §8.2 mmproj, §8.3 drafter).
#include "tools/factory/plan.h"

namespace tessera::factory {
namespace {

using Ne = std::vector<std::uint64_t>;

struct Builder {
  FilePlan& plan;
  const TypeChoice& type;

  void f32(std::string name, Ne ne, Init init) {
    plan.tensors.push_back({std::move(name), DType::F32, std::move(ne), init, 0});
  }
  // A matrix [ne0, ne1] of `role`, typed by the recipe then the block-size fallback.
  void matrix(std::string name, std::uint64_t ne0, std::uint64_t ne1, MatrixRole role,
              std::uint32_t index = 0, std::uint32_t count = 1) {
    const DType t = fallback_type(matrix_type(type, role, index, count), ne0);
    plan.tensors.push_back({std::move(name), t, {ne0, ne1}, Init::matrix, 0});
  }
  void rope_freqs(const TextConfig& c) {
    plan.tensors.push_back({"rope_freqs.weight", DType::F32, {c.n_rope_pairs()}, Init::rope_freqs, c.n_rope_rotating()});
  }
};

std::string blk(std::uint32_t il, const char* what) { return "blk." + std::to_string(il) + "." + what + ".weight"; }

// The part of a decoder block that the target and the drafter share, after attn_output:
// post-attention norm, the GeGLU FFN with its sandwich norms, and the layer output scale.
// `width` is the residual width (3840 target, 1024 drafter).
void add_layer_tail(Builder& b, std::uint32_t il, std::uint64_t width, std::uint64_t n_ff, std::uint32_t n_layer) {
  b.f32(blk(il, "post_attention_norm"), {width}, Init::norm);
  b.f32(blk(il, "ffn_norm"), {width}, Init::norm);
  b.matrix(blk(il, "ffn_gate"), width, n_ff, MatrixRole::ffn_gate);
  b.matrix(blk(il, "ffn_up"), width, n_ff, MatrixRole::ffn_up);
  b.matrix(blk(il, "ffn_down"), n_ff, width, MatrixRole::ffn_down, il, n_layer);
  b.f32(blk(il, "post_ffw_norm"), {width}, Init::norm);
  b.f32(blk(il, "layer_output_scale"), {1}, Init::layer_scale);
}

}  // namespace

std::uint64_t TensorSpec::n_elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : ne) n *= d;
  return n;
}

FilePlan plan_model(const Preset& p, const TypeChoice& type, std::uint32_t n_vocab) {
  const TextConfig& c = p.text;
  FilePlan plan{"gemma4", {}};
  Builder b{plan, type};
  const std::uint64_t d = c.n_embd;
  b.matrix("token_embd.weight", d, n_vocab, MatrixRole::token_embd);
  b.rope_freqs(c);
  std::uint32_t i_wv = 0;
  const std::uint32_t n_wv = c.n_sliding();
  for (std::uint32_t il = 0; il < c.n_layer; ++il) {
    const bool swa = c.is_sliding(il);
    const std::uint64_t hd = swa ? c.head_dim_swa : c.head_dim;
    const std::uint64_t q_out = c.n_head * hd;                                 // [d, H·hd]
    const std::uint64_t kv_out = (swa ? c.n_head_kv_swa : c.n_head_kv) * hd;  // [d, Hkv·hd]
    b.f32(blk(il, "attn_norm"), {d}, Init::norm);
    b.matrix(blk(il, "attn_q"), d, q_out, MatrixRole::attn_q);
    b.matrix(blk(il, "attn_k"), d, kv_out, MatrixRole::attn_k);
    if (swa) b.matrix(blk(il, "attn_v"), d, kv_out, MatrixRole::attn_v, i_wv++, n_wv);  // global: V = K
    b.f32(blk(il, "attn_q_norm"), {hd}, Init::q_norm);
    b.f32(blk(il, "attn_k_norm"), {hd}, Init::k_norm);
    b.matrix(blk(il, "attn_output"), q_out, d, MatrixRole::attn_output);
    add_layer_tail(b, il, d, c.n_ff, c.n_layer);
  }
  b.f32("output_norm.weight", {d}, Init::norm);
  return plan;
}

FilePlan plan_mmproj(const Preset& p, const TypeChoice& type) {
  const MmprojConfig& m = p.mmproj;
  const std::uint64_t d = p.text.n_embd, patch = m.patch_dim();
  DType mt = type.base;
  if (type.mixed || (mt != DType::F32 && mt != DType::F16 && mt != DType::BF16 && mt != DType::Q8_0)) mt = DType::F16;
  const DType patch_t = fallback_type(mt == DType::BF16 ? DType::F32 : mt, patch);
  FilePlan plan{"clip", {}};
  auto add = [&](std::string name, DType t, Ne ne, Init init) {
    plan.tensors.push_back({std::move(name), t, std::move(ne), init, 0});
  };
  add("v.patch_norm.1.weight", DType::F32, {patch}, Init::norm);
  add("v.patch_norm.1.bias", DType::F32, {patch}, Init::bias);
  add("v.patch_embd.weight", patch_t, {patch, d}, Init::matrix);
  add("v.patch_embd.bias", DType::F32, {d}, Init::bias);
  add("v.patch_norm.2.weight", DType::F32, {d}, Init::norm);
  add("v.patch_norm.2.bias", DType::F32, {d}, Init::bias);
  add("v.position_embd.weight", DType::F32, {d, m.pos_size, 2}, Init::pos_table);
  add("v.patch_norm.3.weight", DType::F32, {d}, Init::norm);
  add("v.patch_norm.3.bias", DType::F32, {d}, Init::bias);
  add("mm.input_projection.weight", fallback_type(mt, d), {d, d}, Init::matrix);
  add("mm.a.input_projection.weight", fallback_type(mt, m.audio_frame), {m.audio_frame, d}, Init::matrix);
  return plan;
}

FilePlan plan_drafter(const Preset& p, const TypeChoice& type, std::uint32_t n_vocab) {
  const TextConfig& c = p.text;
  const DrafterConfig& dc = p.drafter;
  FilePlan plan{"gemma4-assistant", {}};
  Builder b{plan, type};
  const std::uint64_t h = dc.n_embd, d = c.n_embd;
  b.matrix("token_embd.weight", h, n_vocab, MatrixRole::token_embd);
  b.f32("output_norm.weight", {h}, Init::norm);
  b.rope_freqs(c);
  b.matrix("nextn.pre_projection.weight", 2 * d, h, MatrixRole::projection);  // [2·d, h]
  b.matrix("nextn.post_projection.weight", h, d, MatrixRole::projection);     // [h, d]
  for (std::uint32_t il = 0; il < dc.n_layer; ++il) {
    const bool swa = il + 1 != dc.n_layer;  // [S, S, S, F]
    const std::uint64_t hd = swa ? c.head_dim_swa : c.head_dim;
    const std::uint64_t q_out = c.n_head * hd;
    b.f32(blk(il, "attn_norm"), {h}, Init::norm);
    b.matrix(blk(il, "attn_q"), h, q_out, MatrixRole::attn_q);
    b.f32(blk(il, "attn_q_norm"), {hd}, Init::q_norm);
    b.matrix(blk(il, "attn_output"), q_out, h, MatrixRole::attn_output);
    add_layer_tail(b, il, h, dc.n_ff, dc.n_layer);
  }
  return plan;
}

}  // namespace tessera::factory
