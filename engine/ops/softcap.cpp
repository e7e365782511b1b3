#include "engine/ops/softcap.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

void softcap(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& y, std::uint32_t n, float cap) {
  constexpr const char* op = "softcap";
  require(n > 0, op, "n must be > 0");
  require(cap > 0.0f, op, "cap must be > 0, got " + std::to_string(cap));
  require_bytes(op, "x", x, 4ull * n);
  require_bytes(op, "y", y, 4ull * n);
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({KernelId::softcap, 2, sizeof(shader::SoftcapParams), {wg}});
  const shader::SoftcapParams params{n, cap};
  const BufferRange bindings[] = {x, y};
  cmd.dispatch(p, bindings, params, groups_1d(plan, n, wg));
}

}  // namespace tessera::ops
