#include "engine/ops/topk.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {
namespace {

constexpr std::uint32_t kSegment = 1024;  // S in topk.comp: 8 KiB of shared memory

std::uint32_t segments(std::uint32_t n) { return (n + kSegment - 1) / kSegment; }

}  // namespace

std::uint64_t topk_scratch_bytes(std::uint32_t n, std::uint32_t k) {
  return 8ull * std::max<std::uint64_t>(1, segments(n)) * k;
}

void topk(Context& ctx, CommandList& cmd, const BufferRange& values, std::uint32_t n, std::uint32_t k,
          const BufferRange& scratch_a, const BufferRange& scratch_b, const BufferRange& out) {
  constexpr const char* op = "topk";
  require(n > 0, op, "no values (n = 0)");
  require(k >= 1 && k <= kTopkMax, op, "k = " + std::to_string(k) + " is outside 1.." + std::to_string(kTopkMax));
  require_bytes(op, "values", values, 4ull * n);
  require_bytes(op, "out", out, 8ull * k);
  const std::uint64_t scratch = topk_scratch_bytes(n, k);
  if (segments(n) > 1) {
    require_bytes(op, "scratch_a", scratch_a, scratch);
    if (segments(segments(n) * k) > 1) require_bytes(op, "scratch_b", scratch_b, scratch);
  }
  const std::uint32_t wg = std::min<std::uint32_t>(ctx.plan().elementwise_workgroup, kSegment / 2);
  const Pipeline& first = ctx.pipeline({KernelId::topk_values, 2, sizeof(shader::TopkParams), {wg, kSegment}});
  const Pipeline& rest = ctx.pipeline({KernelId::topk, 2, sizeof(shader::TopkParams), {wg, kSegment}});
  // Pass i reads `src` (values, then pairs) and writes segments(count) * k pairs: to `out` when one
  // segment is left, else to the scratch range not being read.
  BufferRange src{values.buffer, values.offset, 4ull * n};
  std::uint32_t count = n;
  for (int pass = 0;; ++pass) {
    const std::uint32_t segs = segments(count);
    const BufferRange& into = segs == 1 ? out : (pass % 2 == 0 ? scratch_a : scratch_b);
    const BufferRange dst{into.buffer, into.offset, 8ull * segs * k};
    const BufferRange bindings[] = {src, dst};
    cmd.dispatch(pass == 0 ? first : rest, bindings, shader::TopkParams{count, k}, segs);
    if (segs == 1) return;
    src = dst;
    count = segs * k;
  }
}

}  // namespace tessera::ops
