// The Gemma 4 text model's weights on the GPU (docs/gemma4-spec.md §8.1): matrices stay in their
// GGUF type (dequantized inside the kernels), norm vectors become f32. Every tensor's presence,
// shape and type is checked against the hyper-parameters, with errors naming file and tensor.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/context.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/gpu_tensor.h"
#include "runtime/model/hparams.h"

namespace tessera {

struct Gemma4LayerWeights {
  Buffer attn_norm;                 // [n_embd] f32
  GpuTensor attn_q;                 // [n_embd, n_head * head_dim]
  GpuTensor attn_k;                 // [n_embd, n_kv_heads * head_dim]
  std::optional<GpuTensor> attn_v;  // [n_embd, n_kv_heads * head_dim]; absent on global layers (V = K)
  Buffer attn_q_norm;               // [head_dim] f32
  Buffer attn_k_norm;               // [head_dim] f32
  GpuTensor attn_output;            // [n_head * head_dim, n_embd]
  Buffer post_attention_norm;       // [n_embd] f32
  Buffer ffn_norm;                  // [n_embd] f32
  GpuTensor ffn_gate;               // [n_embd, n_ff]
  GpuTensor ffn_up;                 // [n_embd, n_ff]
  GpuTensor ffn_down;               // [n_ff, n_embd]
  Buffer post_ffw_norm;             // [n_embd] f32
  float output_scale = 1.0f;        // layer_output_scale.weight [1]: multiplies the whole stream
};

struct Gemma4Weights {
  GpuTensor token_embd;                    // [n_embd, n_vocab]: embeddings and the tied output head
  Buffer output_norm;                      // [n_embd] f32
  std::vector<float> rope_freqs;           // [head_dim / 2] global-layer frequency divisors (1 when absent)
  std::vector<Gemma4LayerWeights> layers;  // [n_layer]
  std::uint64_t bytes = 0;                 // tensor bytes uploaded
};

// Called after each tensor with (tensors done, tensors total, bytes done).
using LoadProgress = std::function<void(std::size_t, std::size_t, std::uint64_t)>;

// Checks every tensor, then uploads them. max_chunk: as upload_tensor (0 = device limits).
Gemma4Weights load_gemma4_weights(Context& ctx, const gguf::File& file, const Gemma4HParams& hp,
                                  const LoadProgress& progress = {}, std::uint64_t max_chunk = 0);

}  // namespace tessera
