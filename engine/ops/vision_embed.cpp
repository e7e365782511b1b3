#include "engine/ops/vision_embed.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

namespace {
KernelId reduce_kernel(const KernelPlan& plan, KernelId subgroup, KernelId shared) {
  return plan.subgroup_reduce ? subgroup : shared;
}
}  // namespace

void patch_norm(Context& ctx, CommandList& cmd, const BufferRange& image, const BufferRange& w, const BufferRange& b,
                const BufferRange& y, std::uint32_t width, std::uint32_t height, std::uint32_t patch_px, float eps) {
  constexpr const char* op = "patch_norm";
  require(patch_px > 0 && width > 0 && height > 0 && width % patch_px == 0 && height % patch_px == 0, op,
          "image " + std::to_string(width) + "x" + std::to_string(height) + " is not a whole number of " +
              std::to_string(patch_px) + "-pixel patches");
  const std::uint32_t cols = width / patch_px, patches = cols * (height / patch_px);
  const std::uint64_t n = 3ull * patch_px * patch_px;
  require_bytes(op, "image", image, 12ull * width * height);
  require_bytes(op, "w", w, 4 * n);
  require_bytes(op, "b", b, 4 * n);
  require_bytes(op, "y", y, 4 * n * patches);
  const KernelPlan& plan = ctx.plan();
  const KernelId kernel = reduce_kernel(plan, KernelId::patch_norm, KernelId::patch_norm_shared);
  const Pipeline& p = ctx.pipeline({kernel, 4, sizeof(shader::PatchNormParams), {plan.reduce_workgroup}});
  const shader::PatchNormParams params{width, cols, patches, patch_px, eps, 0};
  const BufferRange bindings[] = {image, w, b, y};
  const RowGrid g = row_grid(plan, patches);
  cmd.dispatch(p, bindings, params, g.x, g.y);
}

void vision_norms(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& vecs,
                  const BufferRange& pos, const BufferRange& y, std::uint32_t rows, std::uint32_t cols,
                  std::uint32_t n, std::uint32_t pos_rows, float eps_ln, float eps_rms) {
  constexpr const char* op = "vision_norms";
  require(rows > 0 && cols > 0 && n > 0, op, "empty shape");
  const std::uint32_t grid_rows = (rows + cols - 1) / cols;
  require(cols <= pos_rows && grid_rows <= pos_rows, op,
          "a " + std::to_string(cols) + "x" + std::to_string(grid_rows) + " patch grid exceeds the position table's " +
              std::to_string(pos_rows) + " entries per axis");
  require_bytes(op, "x", x, 4ull * rows * n);
  require_bytes(op, "vecs", vecs, 20ull * n);
  require_bytes(op, "pos", pos, 8ull * pos_rows * n);
  require_bytes(op, "y", y, 4ull * rows * n);
  const KernelPlan& plan = ctx.plan();
  const KernelId kernel = reduce_kernel(plan, KernelId::vision_norms, KernelId::vision_norms_shared);
  const Pipeline& p = ctx.pipeline({kernel, 4, sizeof(shader::VisionNormsParams), {plan.reduce_workgroup}});
  const shader::VisionNormsParams params{n, rows, cols, pos_rows, eps_ln, eps_rms};
  const BufferRange bindings[] = {x, vecs, pos, y};
  const RowGrid g = row_grid(plan, rows);
  cmd.dispatch(p, bindings, params, g.x, g.y);
}

}  // namespace tessera::ops
