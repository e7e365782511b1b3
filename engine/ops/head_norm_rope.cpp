#include "engine/ops/head_norm_rope.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

void head_norm_rope(Context& ctx, CommandList& cmd, const BufferRange& x, const std::optional<BufferRange>& w,
                    const BufferRange& cs, std::uint32_t tokens, std::uint32_t n_head, std::uint32_t head_dim,
                    std::uint32_t n_rot, float eps) {
  constexpr const char* op = "head_norm_rope";
  require(tokens > 0 && n_head > 0 && head_dim > 0, op,
          "empty shape [" + std::to_string(tokens) + ", " + std::to_string(n_head) + ", " + std::to_string(head_dim) +
              "]");
  require(head_dim % 2 == 0, op, "head_dim " + std::to_string(head_dim) + " is odd");
  require(n_rot <= head_dim / 2, op,
          "n_rot " + std::to_string(n_rot) + " exceeds head_dim / 2 = " + std::to_string(head_dim / 2));
  const std::uint64_t rows = std::uint64_t{tokens} * n_head;
  require_bytes(op, "x", x, 4 * rows * head_dim);
  if (w) require_bytes(op, "w", *w, 4ull * head_dim);
  if (n_rot > 0) require_bytes(op, "cs", cs, 8ull * tokens * n_rot);
  const KernelPlan& plan = ctx.plan();
  const KernelId kernel = plan.subgroup_reduce ? KernelId::head_norm_rope : KernelId::head_norm_rope_shared;
  const Pipeline& p = ctx.pipeline({kernel, 3, sizeof(shader::HeadNormRopeParams), {plan.reduce_workgroup}});
  const shader::HeadNormRopeParams params{head_dim, static_cast<std::uint32_t>(rows), n_head, n_rot, eps, w ? 1u : 0u};
  const BufferRange bindings[] = {x, w ? *w : x, n_rot > 0 ? cs : x};
  const RowGrid g = row_grid(plan, rows);
  cmd.dispatch(p, bindings, params, g.x, g.y);
}

}  // namespace tessera::ops
