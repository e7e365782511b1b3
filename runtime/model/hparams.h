// Model hyper-parameters read from GGUF metadata: Gemma4HParams for the text model (arch
// "gemma4") and its MTP drafter ("gemma4-assistant" / "gemma4_assistant"), ClipHParams for the
// mmproj ("clip"). Keys: docs/gemma4-spec.md §8. Errors: "[hparams] <file>: key '<key>' ...".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/gguf/gguf.h"

namespace tessera {

// One decoder layer's attention/FFN shape (a per-layer view of Gemma4HParams).
struct LayerHParams {
  std::uint32_t index = 0;
  bool is_sliding = false;       // sliding-window (local) attention; false = global
  std::uint32_t n_head = 0;      // query heads
  std::uint32_t n_kv_heads = 0;  // 8 sliding / 1 global on the 12B
  std::uint32_t head_dim = 0;    // key width per head: 256 sliding / 512 global
  std::uint32_t value_dim = 0;   // value width per head
  std::uint32_t n_ff = 0;        // FFN intermediate width
  float rope_base = 0;           // 1e4 sliding / 1e6 global
  std::uint32_t rope_dims = 0;   // rotated dims (the full head; partial rotation is in rope_freqs)
  bool has_kv = true;            // false when the layer reuses another layer's cache (shared KV)
};

struct Gemma4HParams {
  std::string arch;                      // general.architecture: "gemma4", "gemma4-assistant", ...
  bool is_assistant = false;             // MTP drafter file
  std::uint32_t n_layer = 0;             // block_count: 48 (drafter 4)
  std::uint32_t n_ctx_train = 0;         // context_length: 262144
  std::uint32_t n_embd = 0;              // embedding_length d: 3840 (drafter 1024)
  std::uint32_t n_embd_backbone = 0;     // drafter only: the target's width (embedding_length_out), else 0
  std::uint32_t n_head = 0;              // attention.head_count: 16
  std::vector<std::uint32_t> n_head_kv;  // [n_layer] attention.head_count_kv
  std::vector<std::uint32_t> n_ff;       // [n_layer] feed_forward_length: 15360
  std::uint32_t head_dim = 0;            // attention.key_length (global layers): 512
  std::uint32_t value_dim = 0;           // attention.value_length: 512
  std::uint32_t head_dim_swa = 0;        // attention.key_length_swa (sliding layers): 256; 0 if none
  std::uint32_t value_dim_swa = 0;       // attention.value_length_swa: 256
  std::uint32_t sliding_window = 0;      // attention.sliding_window: 1024; 0 if no sliding layer
  std::vector<bool> is_sliding;          // [n_layer] attention.sliding_window_pattern
  float rope_base = 0;                   // rope.freq_base (global): 1e6
  float rope_base_swa = 0;               // rope.freq_base_swa (sliding): 1e4
  std::uint32_t rope_dims = 0;           // rope.dimension_count: 512
  std::uint32_t rope_dims_swa = 0;       // rope.dimension_count_swa: 256
  float rms_eps = 0;                     // attention.layer_norm_rms_epsilon: 1e-6
  float final_logit_softcap = 0;         // final_logit_softcapping: 30; 0 = none
  std::uint32_t n_vocab = 0;             // token_embd rows / tokenizer tokens: 262144
  std::uint32_t n_shared_kv_layers = 0;  // attention.shared_kv_layers: trailing layers without own KV
  std::uint32_t n_embd_per_layer = 0;    // embedding_length_per_layer_input (PLE): 0 on the 12B
  std::uint32_t n_nextn_layers = 0;      // drafter: nextn_predict_layers (== n_layer), else 0

  LayerHParams layer(std::uint32_t il) const;  // throws when il >= n_layer
  std::uint32_t n_sliding_layers() const;
  std::uint32_t n_global_layers() const { return n_layer - n_sliding_layers(); }
  std::uint32_t n_kv_layers() const { return n_layer - n_shared_kv_layers; }  // layers with own KV
};

// True for "gemma4", "gemma4-assistant" and "gemma4_assistant".
bool is_gemma4_arch(std::string_view arch);

// Reads and cross-checks the hyper-parameters of a gemma4 / gemma4-assistant file (metadata,
// plus token_embd for the vocabulary). Throws tessera::Error naming the file and key.
Gemma4HParams read_gemma4_hparams(const gguf::File& f);

// The parts of an mmproj (arch "clip") `tessera info` shows; absent keys stay 0 / empty.
struct ClipHParams {
  bool has_vision = false;            // clip.has_vision_encoder
  bool has_audio = false;             // clip.has_audio_encoder
  std::string vision_projector;       // clip.vision.projector_type: "gemma4uv"
  std::string audio_projector;        // clip.audio.projector_type: "gemma4ua"
  std::uint32_t vision_n_embd = 0;    // clip.vision.embedding_length: 3840
  std::uint32_t vision_proj_dim = 0;  // clip.vision.projection_dim: 3840
  std::uint32_t patch_size = 0;       // clip.vision.patch_size: 16
  std::uint32_t image_size = 0;       // clip.vision.image_size
  std::uint32_t scale_factor = 0;     // clip.vision.projector.scale_factor (default 3 when absent)
  float vision_eps = 0;               // clip.vision.attention.layer_norm_epsilon
  std::uint32_t audio_n_embd = 0;     // clip.audio.embedding_length: 640
  std::uint32_t audio_proj_dim = 0;   // clip.audio.projection_dim: 3840
  float audio_eps = 0;                // clip.audio.attention.layer_norm_epsilon
};

// Reads an arch "clip" file leniently (only type errors and a wrong arch throw).
ClipHParams read_clip_hparams(const gguf::File& f);

}  // namespace tessera
