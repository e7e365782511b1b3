// The oracle of the MTP drafter: one drafting step of a "gemma4-assistant" file (spec §7.1-§7.2,
// §8.3) as a plain scalar CPU loop over weights dequantized to f32, double accumulation, reading
// the target's KV cache as ref::ReferenceModel::kv() gives it. Written from the spec, not from the
// GPU drafter (runtime/model/mtp_drafter.h), which is tested against it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "common/reference_forward.h"
#include "runtime/model/hparams.h"

namespace tessera::ref {

class ReferenceDrafter {
 public:
  // Reads a "gemma4-assistant" / "gemma4_assistant" GGUF: hyper-parameters (runtime/model/hparams.h),
  // token_embd [h, vocab] (the tied output head only), output_norm, rope_freqs (when a layer is
  // global), the pre-/post-projection under any of the names of spec §8.3 (nextn.pre_projection,
  // mtp.pre_projection, mtp_pre_proj; likewise post), and blk.N.{attn_norm, attn_q, attn_q_norm,
  // attn_output, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm,
  // layer_output_scale}. Throws tessera::Error "[reference-drafter] <file>: ..." on a text-model
  // file, a missing tensor or a wrong shape.
  static ReferenceDrafter load(const std::filesystem::path& path);

  const Gemma4HParams& hparams() const { return hp_; }
  // The target layer whose cache drafter layer il reads: the target's last sliding layer for a
  // sliding drafter layer, its last global layer for a global one (spec §7.1).
  std::uint32_t target_layer(const ReferenceModel& target, std::uint32_t il) const;

  struct Step {
    std::vector<float> logits;  // [n_vocab] drafter head, no soft-cap, no suppression
    std::vector<float> h_next;  // [n_embd_backbone] post_projection · y, the next step's h
    std::uint32_t token = 0;    // argmax of logits (the first on ties)
  };
  // One drafting step (spec §7.2) for token t at proposal position P >= 1 with the target hidden
  // h [n_embd_backbone]: x = target token_embd[t] · sqrt(d_target); u = pre_projection · (x ‖ h);
  // each layer attends with q = q_norm + RoPE at P (the target's RoPE of that layer kind, global
  // with this file's rope_freqs), scale 1, to target_kv rows P-window+1 .. P-1 of the target's
  // last sliding layer (sliding layers; window = the target's sliding_window) or rows 0 .. P-1 of
  // its last global layer; rows >= P are ignored. y = output_norm(u); logits = token_embd · y;
  // h_next = post_projection · y. target_kv: target.kv(ids) of a sequence of at least P tokens.
  // Throws "[reference-drafter] ..." when the widths, vocabulary or attention geometry do not
  // match the target, or P is 0 or past the cache.
  Step step(const ReferenceModel& target, const std::vector<ReferenceModel::LayerKv>& target_kv, std::uint32_t t,
            std::span<const float> h, std::uint32_t P) const;

 private:
  // One drafter layer's weights (spec §8.3 names in the comments); no K/V of its own.
  struct Layer {
    std::vector<float> attn_norm;       // [h] attn_norm
    Matrix wq;                          // [h -> n_head·head_dim] attn_q
    std::vector<float> q_norm;          // [head_dim] attn_q_norm
    Matrix wo;                          // [n_head·value_dim -> h] attn_output
    std::vector<float> post_attn_norm;  // [h] post_attention_norm
    std::vector<float> ffn_norm;        // [h] ffn_norm
    Matrix gate;                        // [h -> n_ff] ffn_gate
    Matrix up;                          // [h -> n_ff] ffn_up
    Matrix down;                        // [n_ff -> h] ffn_down
    std::vector<float> post_ffw_norm;   // [h] post_ffw_norm
    float out_scale = 1.0f;             // layer_output_scale
  };

  [[noreturn]] void fail(const std::string& msg) const;
  // Checks the target, its cache and the arguments of step() against this drafter.
  void check(const ReferenceModel& target, const std::vector<ReferenceModel::LayerKv>& target_kv,
             std::uint32_t t, std::span<const float> h, std::uint32_t P) const;
  // The attention of layer il for the normed input a [h] at position P -> [h] (after attn_output).
  std::vector<float> attention(std::uint32_t il, const ReferenceModel& target, const ReferenceModel::LayerKv& kv,
                               const std::vector<float>& a, std::uint32_t P) const;

  Gemma4HParams hp_;
  std::filesystem::path path_;
  std::vector<float> token_embd_;   // [n_vocab, h] f32, the output head
  std::vector<float> output_norm_;  // [h]
  std::vector<float> rope_freqs_;   // [head_dim / 2] global-layer frequency factors; empty if no global layer
  Matrix pre_;                      // [2·d -> h] pre_projection over (x ‖ h)
  Matrix post_;                     // [h -> d] post_projection
  std::vector<Layer> layers_;       // [n_layer]
};

}  // namespace tessera::ref
