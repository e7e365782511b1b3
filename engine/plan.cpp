#include "engine/plan.h"

#include <algorithm>
#include <bit>

namespace tessera {

namespace {
// Shared memory a tile may use where the driver overstates its limit (llama.cpp#24877: a 16.9 KB
// tile failed under a reported 32 KB).
constexpr std::uint32_t kOverstatedSharedBudget = 16384;
// Shared memory of flash_attn's large tiles (q 16 KiB + scores 8 KiB + row state), with margin.
constexpr std::uint32_t kAttentionLargeShared = 26 * 1024;
}  // namespace

const char* matmul_kernel_name(MatmulKernel k) {
  switch (k) {
    case MatmulKernel::automatic: return "automatic";
    case MatmulKernel::matvec: return "matvec";
    case MatmulKernel::matvec_lanes: return "matvec_lanes";
    case MatmulKernel::tiled: return "tiled";
    case MatmulKernel::simple: return "simple";
    case MatmulKernel::matvec_int_dot: return "matvec_int_dot";
  }
  return "?";
}

bool matvec_lanes_supported(const DeviceCaps& caps) {
  return caps.subgroup_ballot && caps.subgroup_size >= 8;
}

KernelPlan plan_kernels(const DeviceCaps& caps) {
  KernelPlan p;
  const std::uint32_t max_inv = caps.max_workgroup_invocations ? caps.max_workgroup_invocations : 128;
  const std::uint32_t max_x = caps.max_workgroup_size[0] ? std::min(caps.max_workgroup_size[0], max_inv) : max_inv;
  // Power-of-two workgroups no larger than 256 (the reduction buffer) or the device limit.
  const std::uint32_t wg = std::bit_floor(std::min<std::uint32_t>(256, max_x));
  p.elementwise_workgroup = wg;
  p.max_groups_x = caps.max_workgroup_count[0] ? std::min<std::uint32_t>(caps.max_workgroup_count[0], 65535) : 65535;
  // Row reductions use the same workgroup; a shared-memory tree when subgroup arithmetic is absent.
  p.subgroup_reduce = caps.subgroup_arithmetic && caps.subgroup_size >= 4;
  p.reduce_workgroup = wg;

  // CPU drivers run invocations as SIMD lanes: one weight row per lane makes the activation loads
  // uniform (scalar) and decodes each chunk's scales once; GPUs want lanes on adjacent weights.
  // For prefill they likewise do best with those lanes over 16-row tiles (4x the shared-memory
  // tiled kernel on lavapipe, whose barriers and shared-memory gathers are costly); GPUs take
  // the tiles, given workgroups of 128.
  if (caps.type == DeviceType::Cpu && matvec_lanes_supported(caps)) {
    p.matvec = MatmulKernel::matvec_lanes;
    p.prefill = MatmulKernel::matvec_lanes;
    p.attention_lanes = true;
  } else {
    p.prefill = wg >= 128 ? MatmulKernel::tiled : MatmulKernel::simple;
  }

  const QuirkSet q = caps.quirks;
  p.integer_dot = caps.integer_dot_product && caps.integer_dot_4x8_accelerated && !q.has(Quirk::int_dot_unreliable);
  p.large_tiles = !q.has(Quirk::large_pipelines_fail);
  p.shared_memory_budget = caps.max_shared_memory;
  if (q.has(Quirk::shared_memory_overstated))
    p.shared_memory_budget = std::min(p.shared_memory_budget, kOverstatedSharedBudget);
  p.quantized_v_cache_hd256 = !q.has(Quirk::quantized_v_cache_hd256);
  p.attention_large = p.large_tiles && max_inv >= 128 && p.shared_memory_budget >= kAttentionLargeShared;
  if (q.has(Quirk::needs_explicit_subgroup_size) && caps.subgroup_size_control && caps.subgroup_size != 0)
    p.required_subgroup_size = caps.subgroup_size;
  if (q.has(Quirk::coopmat_subgroup_multiple))
    p.coopmat_workgroup_multiple = std::max<std::uint32_t>(1, std::max(caps.subgroup_max, caps.subgroup_size));
  p.topk_shared_sort = q.has(Quirk::register_sort_miscompiled);
  return p;
}

}  // namespace tessera
