// Memory plan arithmetic (see memory_plan.h for the formulas).
#include "runtime/model/memory_plan.h"

#include "engine/ops/attention.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/log.h"

namespace tessera {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0); }

// Bytes of one K or V row of `n` elements in `t`.
std::uint64_t kv_row_bytes(DType t, std::uint64_t n, std::uint32_t il) {
  const DTypeInfo& i = dtype_info(t);
  if (n % i.block_size != 0)
    throw Error("[memory_plan] KV type " + std::string(i.name) + ": layer " + std::to_string(il) + " K/V row of " +
                std::to_string(n) + " elements is not a multiple of the block size " + std::to_string(i.block_size));
  // Q8_0 rows use the attention kernels' layout (an f32 scale per block: ops::kv_cache_bytes).
  return t == DType::Q8_0 ? ops::kv_cache_bytes(ops::KvType::q8_0, 1, static_cast<std::uint32_t>(n)) : dtype_bytes(t, n);
}

void check_options(const MemoryPlanOptions& opt) {
  if (opt.ctx_len == 0) throw Error("[memory_plan] context length must be at least 1");
  if (opt.n_ubatch == 0) throw Error("[memory_plan] n_ubatch must be at least 1");
  if (opt.max_binding_bytes == 0 || opt.max_allocation_bytes == 0)
    throw Error("[memory_plan] binding and allocation limits must be non-zero");
}

}  // namespace

KvCachePlan plan_kv_cache(const Gemma4HParams& hp, const MemoryPlanOptions& opt) {
  check_options(opt);
  KvCachePlan kv;
  if (hp.is_assistant) return kv;  // the drafter reads the target's cache (spec §9.2)
  const std::uint64_t ring = ceil_div(std::uint64_t{hp.sliding_window} + opt.n_ubatch, kKvCellPad) * kKvCellPad;
  kv.sliding_cells = opt.swa_full ? opt.ctx_len : static_cast<std::uint32_t>(std::min<std::uint64_t>(opt.ctx_len, ring));
  kv.global_cells = opt.ctx_len;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    if (!l.has_kv) continue;
    const std::uint64_t per_cell = kv_row_bytes(opt.kv_type, std::uint64_t{l.n_kv_heads} * l.head_dim, il) +
                                   kv_row_bytes(opt.kv_type, std::uint64_t{l.n_kv_heads} * l.value_dim, il);
    const std::uint64_t k_row = kv_row_bytes(opt.kv_type, std::uint64_t{l.n_kv_heads} * l.head_dim, il);
    kv.largest_buffer_bytes =
        std::max(kv.largest_buffer_bytes, k_row * (l.is_sliding ? kv.sliding_cells : kv.global_cells));
    if (l.is_sliding) {
      ++kv.n_sliding_layers;
      kv.sliding_bytes_per_cell = std::max(kv.sliding_bytes_per_cell, per_cell);
      kv.sliding_bytes += per_cell * kv.sliding_cells;
    } else {
      ++kv.n_global_layers;
      kv.global_bytes_per_cell = std::max(kv.global_bytes_per_cell, per_cell);
      kv.global_bytes += per_cell * kv.global_cells;
    }
  }
  kv.total_bytes = kv.sliding_bytes + kv.global_bytes;
  return kv;
}

ActivationPlan plan_activations(const Gemma4HParams& hp, const MemoryPlanOptions& opt) {
  check_options(opt);
  ActivationPlan a;
  a.n_tokens = std::min(opt.n_ubatch, opt.ctx_len);
  std::uint64_t max_hd = 0, max_vd = 0, max_kv = 0, max_ff = 0;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    max_hd = std::max<std::uint64_t>(max_hd, l.head_dim);
    max_vd = std::max<std::uint64_t>(max_vd, l.value_dim);
    max_kv = std::max<std::uint64_t>(max_kv, std::uint64_t{l.n_kv_heads} * (l.head_dim + l.value_dim));
    max_ff = std::max<std::uint64_t>(max_ff, l.n_ff);
  }
  a.floats_per_token = 3ull * hp.n_embd + hp.n_head * (max_hd + max_vd) + max_kv + 2 * max_ff;
  a.ubatch_bytes = 4ull * a.n_tokens * a.floats_per_token;
  a.logits_bytes = 4ull * opt.n_outputs * hp.n_vocab;
  a.total_bytes = a.ubatch_bytes + a.logits_bytes;
  return a;
}

TensorSplit split_tensor(const gguf::TensorInfo& t, std::uint64_t max_binding_bytes,
                         std::uint64_t max_allocation_bytes) {
  if (max_binding_bytes == 0 || max_allocation_bytes == 0)
    throw Error("[memory_plan] binding and allocation limits must be non-zero");
  TensorSplit s;
  s.name = t.name;
  s.type = t.type;
  s.shape = t.shape_string();
  s.bytes = t.n_bytes;
  s.rows = t.rows();
  s.row_bytes = t.ne.empty() ? t.n_bytes : dtype_bytes(t.type, t.ne[0]);
  auto chunks = [&](std::uint64_t limit, bool& row_too_large) -> std::uint64_t {
    if (s.bytes == 0) return 0;
    if (s.row_bytes == 0 || s.row_bytes > limit) {
      row_too_large = true;
      return ceil_div(s.bytes, limit);
    }
    return ceil_div(s.rows, limit / s.row_bytes);
  };
  bool unused = false;
  s.binding_chunks = chunks(max_binding_bytes, s.row_exceeds_binding);
  s.allocation_chunks = chunks(max_allocation_bytes, unused);
  return s;
}

MemoryPlan plan_memory(std::span<const gguf::TensorInfo> tensors, const Gemma4HParams* hp,
                       const MemoryPlanOptions& opt) {
  check_options(opt);
  MemoryPlan p;
  p.options = opt;
  const gguf::TensorInfo* largest = nullptr;
  for (const DTypeInfo& info : kDTypes) {
    TypeBytes tb{info.type, 0, 0};
    for (const gguf::TensorInfo& t : tensors)
      if (t.type == info.type) {
        ++tb.n_tensors;
        tb.bytes += t.n_bytes;
      }
    if (tb.n_tensors) p.weights_by_type.push_back(tb);
  }
  for (const gguf::TensorInfo& t : tensors) {
    ++p.n_tensors;
    p.weight_bytes += t.n_bytes;
    if (!largest || t.n_bytes > largest->n_bytes) largest = &t;
    p.n_over_binding += t.n_bytes > opt.max_binding_bytes;
    p.n_over_allocation += t.n_bytes > opt.max_allocation_bytes;
  }
  if (largest) p.largest = split_tensor(*largest, opt.max_binding_bytes, opt.max_allocation_bytes);
  if (hp) {
    p.has_model = true;
    p.kv = plan_kv_cache(*hp, opt);
    p.act = plan_activations(*hp, opt);
  }
  p.total_bytes = p.weight_bytes + p.kv.total_bytes + p.act.total_bytes;
  return p;
}

MemoryPlan plan_memory(const gguf::File& f, const Gemma4HParams& hp, const MemoryPlanOptions& opt) {
  return plan_memory(std::span<const gguf::TensorInfo>(f.tensors()), &hp, opt);
}

std::uint64_t device_memory_available(const DeviceCaps& caps) {
  std::uint64_t best = 0;
  for (const MemoryHeap& h : caps.heaps)
    if (h.device_local) best = std::max(best, h.budget != 0 ? h.budget : h.size);
  // Where the driver overstates its UMA budget, allocations near it fail: keep a fifth free.
  if (caps.quirks.has(Quirk::uma_budget_overstated)) best -= best / 5;
  return best;
}

void require_device_memory(const MemoryPlan& plan, std::uint64_t available, const std::string& file,
                           const std::string& device) {
  if (available == 0 || plan.total_bytes <= available) return;
  throw Error("[model] " + file + " at context " + std::to_string(plan.options.ctx_len) + " needs " +
              format_bytes(plan.total_bytes) + " of device memory (weights " + format_bytes(plan.weight_bytes) +
              ", KV cache " + format_bytes(plan.kv.total_bytes) + ", activations " +
              format_bytes(plan.act.total_bytes) + ") but " + device + " has " + format_bytes(available) +
              " available: use a smaller context (--ctx) or a smaller quantization");
}

}  // namespace tessera
