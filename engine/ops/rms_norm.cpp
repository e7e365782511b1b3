#include "engine/ops/rms_norm.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

void rms_norm(Context& ctx, CommandList& cmd, const BufferRange& x, const std::optional<BufferRange>& w,
              const BufferRange& y, std::uint32_t rows, std::uint32_t n, float eps) {
  constexpr const char* op = "rms_norm";
  require(rows > 0 && n > 0, op, "empty shape [" + std::to_string(rows) + ", " + std::to_string(n) + "]");
  require_bytes(op, "x", x, 4ull * rows * n);
  require_bytes(op, "y", y, 4ull * rows * n);
  if (w) require_bytes(op, "w", *w, 4ull * n);
  const KernelPlan& plan = ctx.plan();
  const KernelId kernel = plan.subgroup_reduce ? KernelId::rms_norm : KernelId::rms_norm_shared;
  const Pipeline& p = ctx.pipeline({kernel, 3, sizeof(shader::RmsNormParams), {plan.reduce_workgroup}});
  const shader::RmsNormParams params{n, rows, eps, w ? 1u : 0u, n, n};
  const BufferRange bindings[] = {x, w ? *w : x, y};
  const RowGrid g = row_grid(plan, rows);
  cmd.dispatch(p, bindings, params, g.x, g.y);
}

}  // namespace tessera::ops
