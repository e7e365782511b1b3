// The correctness oracle: a plain scalar CPU forward pass of the Gemma 4 text decoder, written
// from docs/gemma4-spec.md §2-§3 (not from the GPU code). Every weight is dequantized to f32 once
// at load; activations are f32, every dot product, norm and softmax accumulates in double.
// Meant for tiny/small factory models (the 12B would need ~48 GB of f32 weights).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "runtime/model/hparams.h"

namespace tessera::ref {

// ---- building blocks (exposed so tests can pin their conventions with hand-computed values) ----

// x[n] <- x / sqrt(mean(x²) + eps) · w, the weight used as is (no 1 + w); w empty: no weight.
void rms_norm(std::span<float> x, std::span<const float> w, double eps);

// NeoX ("rotate-half") RoPE of one head x[head_dim] at position `pos`: for j < rope_dims/2 the
// pair (x[j], x[j + rope_dims/2]) turns by pos · base^(-2j/rope_dims) / freq_factors[j]
// (freq_factors empty: all 1); dims >= rope_dims are left alone.
void rope_neox(std::span<float> x, std::uint32_t pos, double base, std::uint32_t rope_dims,
               std::span<const float> freq_factors);

// 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), the "gelu_pytorch_tanh" of the FFN.
double gelu_tanh(double x);

// ---- the model ----

// A dequantized 2-D weight: n_out rows of n_in contiguous values (GGUF ne = [n_in, n_out]).
struct Matrix {
  std::uint32_t n_in = 0;
  std::uint32_t n_out = 0;  // 0: absent
  std::vector<float> w;     // [n_out, n_in] f32
};

// Tokens [begin, end) of one bidirectional block (the soft tokens of one image, spec §3): on
// sliding layers each sees the whole block, later tokens included.
struct Block {
  std::size_t begin = 0, end = 0;
};

// Embedding rows injected in place of token embeddings (image / audio soft tokens, spec §4.2, §5):
// rows [n, n_embd] replace positions begin .. begin+n-1 as they are, without the √n_embd scale
// of text tokens (spec Appendix A). The ids at those positions are ignored (any value).
struct EmbedRows {
  std::size_t begin = 0;
  std::vector<float> rows;  // [n, n_embd] f32
};

class ReferenceModel {
 public:
  // Reads hyper-parameters and every text-decoder weight of a "gemma4" GGUF (any dtype that
  // runtime/quant/dequant.h handles). Throws tessera::Error "[reference] <file>: ..." on a missing
  // tensor, a wrong shape, or a feature the oracle does not cover (PLE, shared KV, drafter files).
  static ReferenceModel load(const std::filesystem::path& gguf_path);

  const Gemma4HParams& hparams() const { return hp_; }
  // tokenizer.ggml.suppress_tokens of the file (empty when absent): their logits are -inf.
  const std::vector<std::uint32_t>& suppress_tokens() const { return suppress_; }

  // Full causal forward of a whole sequence from position 0 (no cache): logits [T, n_vocab]
  // row-major, after the final soft-cap, with -inf at the suppressed tokens.
  // blocks: bidirectional blocks (sorted, disjoint), attended as one on sliding layers only.
  // embeds: injected rows (disjoint; each a whole number of rows inside ids), else throws.
  std::vector<float> forward(std::span<const std::uint32_t> ids, std::span<const Block> blocks = {},
                             std::span<const EmbedRows> embeds = {}) const;
  // The post-final-norm hidden states [T, n_embd] (the LM head's input; the MTP drafter's h).
  std::vector<float> hidden_states(std::span<const std::uint32_t> ids, std::span<const Block> blocks = {},
                                   std::span<const EmbedRows> embeds = {}) const;
  // The residual stream [T, n_embd] after the first `n_layers` decoder layers (0: the embeddings,
  // scaled token rows and raw injected rows), for bisecting a disagreement layer by layer.
  std::vector<float> residual(std::span<const std::uint32_t> ids, std::uint32_t n_layers,
                              std::span<const Block> blocks = {}, std::span<const EmbedRows> embeds = {}) const;
  // Tied LM head + soft-cap + suppression on hidden states [T, n_embd] -> logits [T, n_vocab].
  std::vector<float> logits_from_hidden(std::span<const float> hidden) const;

  // One layer of what a KV cache holds after a whole-sequence forward from position 0 (spec §2.2
  // steps 7-8): K after k_norm and RoPE at its position, V after the weight-less V-norm (global
  // layers: V is the raw K, normed, no RoPE). Row t is position t; KV head g of row t starts at
  // t·n_kv_heads·head_dim (k) and t·n_kv_heads·value_dim (v).
  struct LayerKv {
    std::uint32_t head_dim = 0;    // key width per KV head: 256 sliding / 512 global on the 12B
    std::uint32_t value_dim = 0;   // value width per KV head
    std::uint32_t n_kv_heads = 0;  // 8 sliding / 1 global on the 12B
    std::vector<float> k;          // [T, n_kv_heads·head_dim] f32
    std::vector<float> v;          // [T, n_kv_heads·value_dim] f32
  };
  // The keys and values of every layer [n_layer] for the whole of `ids` (same arguments as
  // forward()), e.g. the target cache an MTP drafter step reads (common/reference_drafter.h).
  std::vector<LayerKv> kv(std::span<const std::uint32_t> ids, std::span<const Block> blocks = {},
                          std::span<const EmbedRows> embeds = {}) const;

 private:
  // One decoder layer's weights (spec §8.1 names in the comments).
  struct Layer {
    std::vector<float> attn_norm;       // [n_embd] attn_norm
    Matrix wq;                          // [n_embd -> n_head·head_dim] attn_q
    Matrix wk;                          // [n_embd -> n_kv·head_dim] attn_k
    Matrix wv;                          // [n_embd -> n_kv·value_dim] attn_v; empty (n_out 0): V = raw K
    std::vector<float> q_norm;          // [head_dim] attn_q_norm
    std::vector<float> k_norm;          // [head_dim] attn_k_norm
    Matrix wo;                          // [n_head·value_dim -> n_embd] attn_output
    std::vector<float> post_attn_norm;  // [n_embd] post_attention_norm
    std::vector<float> ffn_norm;        // [n_embd] ffn_norm
    Matrix gate;                        // [n_embd -> n_ff] ffn_gate
    Matrix up;                          // [n_embd -> n_ff] ffn_up
    Matrix down;                        // [n_ff -> n_embd] ffn_down
    std::vector<float> post_ffw_norm;   // [n_embd] post_ffw_norm
    float out_scale = 1.0f;             // layer_output_scale: multiplies the whole residual
  };

  // [T, n_embd]: scaled token embeddings, then the injected rows over their positions.
  std::vector<float> embed(std::span<const std::uint32_t> ids, std::span<const EmbedRows> embeds) const;
  // last[t]: the last key position token t sees on sliding layers (t, or its block's end - 1).
  std::vector<std::size_t> last_keys(std::size_t T, std::span<const Block> blocks) const;
  // kv: when set, receives this layer's keys and values.
  void run_layer(std::uint32_t il, std::vector<float>& h, std::size_t T, const std::vector<std::size_t>& last,
                 LayerKv* kv = nullptr) const;  // h [T, n_embd]
  std::vector<float> attention(std::uint32_t il, const std::vector<float>& a, std::size_t T,
                               const std::vector<std::size_t>& last, LayerKv* kv = nullptr) const;
  std::vector<float> attend(const LayerHParams& lp, const std::vector<float>& q, const std::vector<float>& k,
                            const std::vector<float>& v, std::size_t T,
                            const std::vector<std::size_t>& last) const;  // [T, n_head·value_dim]
  std::vector<float> ffn(const Layer& l, const std::vector<float>& f, std::size_t T) const;

  Gemma4HParams hp_;
  std::filesystem::path path_;
  std::vector<float> token_embd_;        // [n_vocab, n_embd] f32, also the tied LM head
  std::vector<float> output_;            // [n_vocab, n_embd] output.weight when the file has one, else empty
  std::vector<float> output_norm_;       // [n_embd]
  std::vector<float> rope_freqs_;        // [global head_dim / 2] global-layer frequency factors; empty if none
  std::vector<Layer> layers_;            // [n_layer]
  std::vector<std::uint32_t> suppress_;  // token ids whose logits are -inf
};

}  // namespace tessera::ref
