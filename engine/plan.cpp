#include "engine/plan.h"

#include <algorithm>
#include <bit>

namespace tessera {

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
  return p;
}

}  // namespace tessera
