// Memory plan of a model at a given context: weight bytes by type, the KV cache (a ring for
// sliding-window layers, docs/gemma4-spec.md §9.2), an activation/scratch estimate, the total,
// and how the largest tensor must be split for 128 MiB bindings / 2 GiB allocations. Pure CPU.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/caps.h"
#include "engine/dtype.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/hparams.h"

namespace tessera {

inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
inline constexpr std::uint32_t kKvCellPad = 256;  // ring sizes are padded to this many cells

struct MemoryPlanOptions {
  std::uint32_t ctx_len = 4096;                 // tokens of context (global layers keep all of them)
  DType kv_type = DType::F16;                   // K and V storage type
  std::uint32_t n_ubatch = 512;                 // tokens per forward; also the SWA ring's slack
  std::uint32_t n_outputs = 1;                  // rows of logits produced per forward
  bool swa_full = false;                        // sliding layers keep the full history (no ring)
  std::uint64_t max_binding_bytes = 128 * kMiB;  // bytes one storage-buffer binding may cover
  std::uint64_t max_allocation_bytes = 2 * kGiB;  // bytes one device allocation may hold
};

struct TypeBytes {
  DType type = DType::F32;
  std::uint64_t n_tensors = 0;
  std::uint64_t bytes = 0;
};

// How one tensor splits into row-aligned pieces under the binding / allocation limits.
struct TensorSplit {
  std::string name;
  DType type = DType::F32;
  std::string shape;                   // "[3840, 262144]"
  std::uint64_t bytes = 0;
  std::uint64_t row_bytes = 0;         // bytes of one ne[0] row
  std::uint64_t rows = 0;
  std::uint64_t binding_chunks = 0;    // pieces of whole rows each <= max_binding_bytes (1 = fits)
  std::uint64_t allocation_chunks = 0;  // pieces of whole rows each <= max_allocation_bytes
  bool row_exceeds_binding = false;    // a single row is larger than a binding: chunks split rows
};

struct KvCachePlan {
  std::uint32_t n_sliding_layers = 0;  // sliding layers that own a cache
  std::uint32_t n_global_layers = 0;   // global layers that own a cache
  std::uint32_t sliding_cells = 0;     // ring: min(ctx, pad256(window + n_ubatch)); ctx when swa_full
  std::uint32_t global_cells = 0;      // ctx
  std::uint64_t sliding_bytes_per_cell = 0;  // one sliding layer, K + V, one token: 8192 on the 12B (f16)
  std::uint64_t global_bytes_per_cell = 0;   // one global layer, K + V, one token: 2048 on the 12B (f16)
  std::uint64_t sliding_bytes = 0;
  std::uint64_t global_bytes = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t largest_buffer_bytes = 0;  // one layer's K or V buffer, the largest (one binding)
};

// Activations of one forward of T = min(n_ubatch, ctx) tokens, f32, attention tiled (no T × ctx
// score matrix is materialised):
//   per_token = 3·n_embd (residual, normed input, sub-layer output)
//             + n_head·max(head_dim) (q) + n_head·max(value_dim) (attention output)
//             + max over layers of n_kv_heads·(head_dim + value_dim) (the new K and V rows)
//             + 2·max(n_ff) (gate and up)
//   ubatch_bytes = 4 · T · per_token;  logits_bytes = 4 · n_outputs · n_vocab
// 12B at T = 512: per_token = 62,720 floats, 122.5 MiB; logits 1 MiB per row.
struct ActivationPlan {
  std::uint32_t n_tokens = 0;          // T
  std::uint64_t floats_per_token = 0;  // per_token above
  std::uint64_t ubatch_bytes = 0;
  std::uint64_t logits_bytes = 0;
  std::uint64_t total_bytes = 0;
};

struct MemoryPlan {
  MemoryPlanOptions options;
  bool has_model = false;              // hparams were given (KV and activations planned)
  std::vector<TypeBytes> weights_by_type;  // in dtype.h order, only types present
  std::uint64_t n_tensors = 0;
  std::uint64_t weight_bytes = 0;      // sum of tensor n_bytes
  KvCachePlan kv;
  ActivationPlan act;
  std::uint64_t total_bytes = 0;       // weights + KV + activations
  TensorSplit largest;                 // the largest tensor (empty name when there is none)
  std::uint32_t n_over_binding = 0;    // tensors larger than max_binding_bytes
  std::uint32_t n_over_allocation = 0;  // tensors larger than max_allocation_bytes
};

// KV cache bytes for hp at opt.ctx_len. The drafter (is_assistant) owns no KV cache.
// Throws tessera::Error when a K/V row of kv_type is not a whole number of blocks.
KvCachePlan plan_kv_cache(const Gemma4HParams& hp, const MemoryPlanOptions& opt = {});

ActivationPlan plan_activations(const Gemma4HParams& hp, const MemoryPlanOptions& opt = {});

TensorSplit split_tensor(const gguf::TensorInfo& t, std::uint64_t max_binding_bytes, std::uint64_t max_allocation_bytes);

// The whole plan; hp == nullptr plans weights only (mmproj, unknown architectures).
MemoryPlan plan_memory(std::span<const gguf::TensorInfo> tensors, const Gemma4HParams* hp,
                       const MemoryPlanOptions& opt = {});
MemoryPlan plan_memory(const gguf::File& f, const Gemma4HParams& hp, const MemoryPlanOptions& opt = {});

// Device-local memory a model may use: the largest device-local heap (its budget when the
// driver reports one), less a fifth under the uma_budget_overstated quirk; 0 when unknown.
std::uint64_t device_memory_available(const DeviceCaps& caps);

// Throws tessera::Error when plan.total_bytes exceeds `available` (0: unknown, no check), saying
// what the model needs (weights, KV cache, activations), what the device has, and what to change.
void require_device_memory(const MemoryPlan& plan, std::uint64_t available, const std::string& file,
                           const std::string& device);

}  // namespace tessera
