// The kernel plan: which variant and workgroup shape each kernel family uses on a device,
// picked once from DeviceCaps by a pure function (unit-tested per device profile without a GPU).
#pragma once
#include <cstdint>

#include "engine/caps.h"

namespace tessera {

struct KernelPlan {
  std::uint32_t elementwise_workgroup = 256;  // threads per workgroup of 1-D elementwise kernels
  std::uint32_t max_groups_x = 65535;         // largest grid width used (grid-stride loops beyond)
  std::uint32_t reduce_workgroup = 256;       // threads per row of row reductions (power of two)
  bool subgroup_reduce = true;                // subgroupAdd reduction, else a shared-memory tree
};

KernelPlan plan_kernels(const DeviceCaps& caps);

}  // namespace tessera
