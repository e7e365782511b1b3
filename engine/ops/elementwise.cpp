#include "engine/ops/elementwise.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {
namespace {

void dispatch(Context& ctx, CommandList& cmd, KernelId kernel, const char* op, const BufferRange& a,
              const BufferRange& b, const BufferRange& out, std::uint32_t n, std::uint32_t b_n, float s) {
  require(n > 0, op, "n must be > 0");
  require(b_n > 0 && n % b_n == 0, op, "b has " + std::to_string(b_n) + " elements, which does not divide n = " + std::to_string(n));
  require_bytes(op, "a", a, 4ull * n);
  require_bytes(op, "b", b, 4ull * b_n);
  require_bytes(op, "out", out, 4ull * n);
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({kernel, 3, sizeof(shader::ElementwiseParams), {wg}});
  const shader::ElementwiseParams params{n, b_n, s, 0};
  const BufferRange bindings[] = {a, b, out};
  cmd.dispatch(p, bindings, params, groups_1d(plan, n, wg));
}

}  // namespace

void add(Context& ctx, CommandList& cmd, const BufferRange& a, const BufferRange& b, const BufferRange& out,
         std::uint32_t n, std::uint32_t b_n) {
  dispatch(ctx, cmd, KernelId::elementwise_add, "add", a, b, out, n, b_n ? b_n : n, 1.0f);
}

void mul(Context& ctx, CommandList& cmd, const BufferRange& a, const BufferRange& b, const BufferRange& out,
         std::uint32_t n, std::uint32_t b_n) {
  dispatch(ctx, cmd, KernelId::elementwise_mul, "mul", a, b, out, n, b_n ? b_n : n, 1.0f);
}

void scale(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& out, std::uint32_t n, float s) {
  dispatch(ctx, cmd, KernelId::elementwise_scale, "scale", x, x, out, n, n, s);
}

}  // namespace tessera::ops
