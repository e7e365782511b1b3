#include "engine/ops/geglu.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

void geglu(Context& ctx, CommandList& cmd, const BufferRange& gate, const BufferRange& up, const BufferRange& out,
           std::uint32_t rows, std::uint32_t n, std::uint32_t gate_stride, std::uint32_t up_stride,
           std::uint32_t out_stride, std::uint32_t up_offset) {
  constexpr const char* op = "geglu";
  gate_stride = gate_stride ? gate_stride : n;
  up_stride = up_stride ? up_stride : n;
  out_stride = out_stride ? out_stride : n;
  require(rows > 0 && n > 0, op, "empty shape [" + std::to_string(rows) + ", " + std::to_string(n) + "]");
  require(gate_stride >= n && up_stride >= n && out_stride >= n, op, "a row stride is smaller than n = " + std::to_string(n));
  const auto need = [&](std::uint32_t stride) { return 4ull * ((rows - 1ull) * stride + n); };
  require_bytes(op, "gate", gate, need(gate_stride));
  require_bytes(op, "up", up, need(up_stride) + 4ull * up_offset);
  require_bytes(op, "out", out, need(out_stride));
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({KernelId::geglu, 3, sizeof(shader::GegluParams), {wg}});
  const shader::GegluParams params{n, rows, gate_stride, up_stride, out_stride, up_offset};
  const BufferRange bindings[] = {gate, up, out};
  cmd.dispatch(p, bindings, params, groups_1d(plan, std::uint64_t{rows} * n, wg));
}

void geglu_fused(Context& ctx, CommandList& cmd, const BufferRange& fused, const BufferRange& out, std::uint32_t rows,
                 std::uint32_t n) {
  geglu(ctx, cmd, fused, fused, out, rows, n, 2 * n, 2 * n, n, n);
}

}  // namespace tessera::ops
