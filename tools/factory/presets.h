// Model presets of tessera-factory: the dimensions of the synthetic Gemma 4 text model, its
// MTP drafter and its mmproj. Every preset keeps the real layer pattern (5 sliding then 1 global,
// last layer global), global head dim = 2x sliding, partial rotary 0.25 on global layers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::factory {

// Text decoder hyper-parameters (spec §1).
struct TextConfig {
  std::uint32_t n_layer = 6;
  std::uint32_t n_embd = 64;           // hidden size d
  std::uint32_t n_ff = 128;            // GeGLU intermediate size
  std::uint32_t n_head = 4;            // query heads, all layers
  std::uint32_t n_head_kv_swa = 2;     // KV heads on sliding layers
  std::uint32_t n_head_kv = 1;         // KV heads on global layers (K = V shared)
  std::uint32_t head_dim_swa = 32;     // sliding head dim
  std::uint32_t head_dim = 64;         // global head dim
  std::uint32_t n_vocab = 512;         // synthetic vocabulary size (an imported one overrides it)
  std::uint32_t context_length = 2048;
  std::uint32_t sliding_window = 16;
  std::uint32_t swa_period = 6;        // every 6th layer (and the last) is global
  float rope_base = 1e6f;              // global layers
  float rope_base_swa = 1e4f;          // sliding layers
  float partial_rotary = 0.25f;        // fraction of the global head that rotates
  float rms_eps = 1e-6f;
  float final_softcap = 30.0f;

  bool is_sliding(std::uint32_t il) const { return il + 1 != n_layer && (il + 1) % swa_period != 0; }
  std::uint32_t n_global() const;
  std::uint32_t n_sliding() const { return n_layer - n_global(); }
  // rope_freqs.weight length: head_dim / 2 factors, the first head_dim/2 * partial_rotary 1.0.
  std::uint32_t n_rope_pairs() const { return head_dim / 2; }
  std::uint32_t n_rope_rotating() const;
};

// MTP assistant ("gemma4-assistant", spec §7.1): reads the target's KV, so its attention
// geometry (heads, head dims, KV heads) is the target's.
struct DrafterConfig {
  std::uint32_t n_layer = 4;    // pattern [S, S, S, F]
  std::uint32_t n_embd = 32;    // drafter hidden (1024 in 12B); must differ from the target's
  std::uint32_t n_ff = 256;     // 8192 in 12B
};

// mmproj ("clip" with gemma4uv + gemma4ua, spec §4, §5, §8.2).
struct MmprojConfig {
  std::uint32_t patch_size = 16;      // teacher patch; merged patch = patch_size * merge
  std::uint32_t merge = 3;
  std::uint32_t pos_size = 1120;      // rows per axis of the position table
  std::uint32_t audio_frame = 640;    // samples per audio soft token
  std::uint32_t image_size = 224;     // dummy clip.vision.image_size
  std::uint32_t num_mel_bins = 128;   // dummy, ignored by loaders
  std::uint32_t patch_dim() const { return patch_size * merge * patch_size * merge * 3; }  // 6912
};

struct Preset {
  std::string name;
  TextConfig text;
  DrafterConfig drafter;
  MmprojConfig mmproj;
};

// "tiny", "small" or "12b"; throws tessera::Error "[factory] unknown preset ..." otherwise.
Preset preset_by_name(std::string_view name);
std::vector<std::string> preset_names();

}  // namespace tessera::factory
