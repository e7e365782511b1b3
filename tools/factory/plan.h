// What goes into each factory file: tensor names, shapes, types and initializers (plan_*), and
// the GGUF metadata keys (write_*_metadata), matching real Gemma 4 files (spec §8.1-§8.3).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "tools/factory/presets.h"
#include "tools/factory/recipe.h"

namespace tessera::gguf {
class Writer;
}

namespace tessera::factory {

// How a tensor's random values are drawn (weights.h).
enum class Init {
  norm,         // RMSNorm / LayerNorm weight: 1 + 0.05·N(0,1)
  q_norm,       // per-head q norm: 1.0 + 0.02·N
  k_norm,       // per-head k norm: 0.12 + 0.01·N (carries the attention temperature)
  layer_scale,  // layer_output_scale: uniform in [0.3, 0.9]
  matrix,       // projection: N(0, 1/fan_in), fan_in = ne[0]
  bias,         // 0.02·N
  pos_table,    // vision position table: 0.2·N
  rope_freqs,   // n_rope_rotating × 1.0, then 1e30
  // The target/drafter pair design (pair_design.h) only:
  zero,             // 0: post-attention / post-FFN norms, so each sub-block adds nothing
  one,              // 1: layer_output_scale, the drafter's output_norm
  pair_embd,        // target token_embd: the rows of the low-rank E = A·B
  pair_out_norm,    // target output_norm: γ·(±1)
  pair_pre_proj,    // drafter pre-projection: c·B over the embedding half, zeros elsewhere
  pair_draft_embd,  // drafter token_embd: rows B·W·E'_j (+ noise)
};

struct TensorSpec {
  std::string name;
  DType type = DType::F32;
  std::vector<std::uint64_t> ne;  // ggml order
  Init init = Init::matrix;
  std::uint32_t rope_rotating = 0;  // Init::rope_freqs: leading 1.0 entries
  std::uint64_t n_elements() const;
};

struct FilePlan {
  std::string architecture;  // "gemma4", "clip", "gemma4-assistant"
  std::vector<TensorSpec> tensors;
};

// Main model: token_embd, rope_freqs, 14 tensors per sliding layer, 13 per global layer (no
// attn_v), output_norm; no output.weight (tied). 667 tensors for 12b.
FilePlan plan_model(const Preset& p, const TypeChoice& type, std::uint32_t n_vocab);
// mmproj (gemma4uv + gemma4ua): 11 tensors. Matrices use the requested type when it is F32, F16,
// BF16 or Q8_0, else F16; with BF16 the patch embedding is F32 (as in real BF16 mmproj files).
FilePlan plan_mmproj(const Preset& p, const TypeChoice& type);
// MTP drafter: token_embd, output_norm, rope_freqs, nextn.{pre,post}_projection, 11 per layer.
FilePlan plan_drafter(const Preset& p, const TypeChoice& type, std::uint32_t n_vocab);

// general.* and architecture keys; `description` goes to general.description.
void write_model_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description);
void write_mmproj_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description);
void write_drafter_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description);

}  // namespace tessera::factory
