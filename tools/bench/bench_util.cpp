#include "tools/bench/bench_util.h"

#include <algorithm>

#include "engine/buffer.h"
#include "engine/ops/elementwise.h"

namespace tessera::bench {

double best_gpu_ms(Context& ctx, int runs, const std::function<void(CommandList&)>& record) {
  CommandList cmd(ctx);
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    cmd.begin();
    record(cmd);
    cmd.submit_and_wait();
    double ms = 0;
    for (const CommandList::Timing& t : cmd.timings()) ms += t.ms;
    best = std::min(best, ms);
  }
  return best;
}

TimedRuns time_after_warmup(CommandList& cmd, int runs, double slow_ms,
                            const std::function<void(CommandList&)>& record) {
  TimedRuns t{1e30, 0};
  for (int r = 0; r <= runs; ++r) {
    cmd.begin();
    record(cmd);
    cmd.submit_and_wait();
    double ms = 0;
    for (const CommandList::Timing& x : cmd.timings()) ms += x.ms;
    if (r == 0 && ms > slow_ms) return {ms, 1};
    if (r > 0) t.ms = std::min(t.ms, ms), ++t.runs;
  }
  return t;
}

std::pair<Buffer, Buffer> zeroed_pair(Context& ctx, std::uint64_t bytes) {
  std::pair<Buffer, Buffer> p{Buffer::create(ctx.device(), bytes, MemoryKind::Device, "bandwidth.src"),
                              Buffer::create(ctx.device(), bytes, MemoryKind::Device, "bandwidth.dst")};
  CommandList init(ctx);
  init.begin();
  init.fill_zero(p.first.range());
  init.fill_zero(p.second.range());
  init.submit_and_wait();
  return p;
}

double stream_bandwidth_gbs(Context& ctx, int runs) {
  if (!CommandList(ctx).timestamps_enabled()) return 0;
  constexpr std::uint64_t kBytes = 64ull << 20;
  const auto [a, b] = zeroed_pair(ctx, kBytes);
  const double ms = best_gpu_ms(ctx, runs, [&](CommandList& cmd) {
    ops::scale(ctx, cmd, a.range(), b.range(), static_cast<std::uint32_t>(kBytes / 4), 2.0f);
  });
  return kStreamBytes / (ms * 1e6);
}

}  // namespace tessera::bench
