// Measurement helpers shared by the benchmarks: best GPU time of a recorded pass from the
// timestamps, and the device's streaming bandwidth (a compute pass reading and writing 64 MiB),
// the 100% that kernel and model figures are compared with.
#pragma once
#include <functional>
#include <utility>

#include "engine/buffer.h"

#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::bench {

// Records `record` once per run, submits, returns the best summed GPU time in ms.
double best_gpu_ms(Context& ctx, int runs, const std::function<void(CommandList&)>& record);

// Best GPU time of `runs` timed runs after a warm-up run (pipeline creation); a warm-up longer than
// slow_ms is taken as the one timed run (slow cases are not repeated).
struct TimedRuns {
  double ms = 0;
  int runs = 0;
};
TimedRuns time_after_warmup(CommandList& cmd, int runs, double slow_ms,
                            const std::function<void(CommandList&)>& record);

// Two zero-filled device buffers of `bytes` each: the source and destination of a bandwidth pass.
std::pair<Buffer, Buffer> zeroed_pair(Context& ctx, std::uint64_t bytes);

// GB/s of the best of `runs` 64 MiB f32 scale passes (bytes read + written over GPU time); 0 when
// the device has no timestamps.
double stream_bandwidth_gbs(Context& ctx, int runs = 5);

inline constexpr double kStreamBytes = 2.0 * (64ull << 20);

}  // namespace tessera::bench
