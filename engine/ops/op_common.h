// Helpers shared by the host side of the kernels: range checks with messages that name the op
// and operand, and 1-D grid sizing for grid-stride kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/buffer.h"
#include "engine/error.h"
#include "engine/plan.h"

namespace tessera::ops {

// Throws "[op] operand needs N bytes but its range has M" when `r` is too small or unbound.
inline void require_bytes(std::string_view op, std::string_view operand, const BufferRange& r, std::uint64_t need) {
  if (r.buffer == nullptr) throw Error("[" + std::string(op) + "] " + std::string(operand) + " is not bound");
  const std::uint64_t have = r.bytes();
  if (have < need)
    throw Error("[" + std::string(op) + "] " + std::string(operand) + " needs " + std::to_string(need) +
                " bytes but its range has " + std::to_string(have));
}

inline void require(bool ok, std::string_view op, const std::string& what) {
  if (!ok) throw Error("[" + std::string(op) + "] " + what);
}

// Workgroups for a grid-stride loop over n items: enough to cover n once, capped by the plan.
inline std::uint32_t groups_1d(const KernelPlan& plan, std::uint64_t n, std::uint32_t wg) {
  const std::uint64_t g = (n + wg - 1) / wg;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(g, 1, plan.max_groups_x));
}

// A grid of one workgroup per row, folded into x * y when rows exceed the plan's grid width; the
// kernel's row is gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x (it skips rows >= n).
struct RowGrid {
  std::uint32_t x = 1, y = 1;
};
inline RowGrid row_grid(const KernelPlan& plan, std::uint64_t rows) {
  const auto x = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(rows, 1, plan.max_groups_x));
  return {x, static_cast<std::uint32_t>((rows + x - 1) / x)};
}

}  // namespace tessera::ops
