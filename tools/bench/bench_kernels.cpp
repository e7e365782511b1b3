// tessera-bench-kernels: GPU time of the foundation kernels on Gemma 4 12B shapes, from GPU
// timestamps, as GB/s and as a share of the device's measured streaming bandwidth (a compute
// pass reading and writing 64 MiB, best of the runs). Speed is measured here, never asserted in tests.
// The matmul family has its own benchmark: `tessera bench kernels`.
//
//   tessera-bench-kernels [--runs N] [--json]      (device and profile from TESSERA_DEVICE*)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/geglu.h"
#include "engine/ops/get_rows.h"
#include "engine/ops/rms_norm.h"
#include "engine/ops/softcap.h"
#include "engine/options.h"
#include "tools/bench/bench_util.h"

namespace tessera {
namespace {

struct Result {
  std::string name;
  double bytes = 0;  // bytes each run reads + writes
  double ms = 0;     // best GPU time of one run
};

int run(int argc, char** argv) {
  CLI::App app{"tessera-bench-kernels: GPU time of the foundation kernels on Gemma 4 12B shapes"};
  int runs = 5;
  bool json = false;
  app.add_option("--runs", runs, "runs per kernel (best is kept)")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print JSON");
  CLI11_PARSE(app, argc, argv);

  auto ctx = Context::create(EngineOptions::from_env());
  const DeviceCaps& caps = ctx->caps();
  if (!CommandList(*ctx).timestamps_enabled()) {
    std::fprintf(stderr, "tessera-bench-kernels: %s has no compute timestamps\n", caps.name.c_str());
    return 1;
  }
  Device& dev = ctx->device();
  constexpr std::uint32_t kHidden = 3840, kFfn = 15360, kVocab = 262144, kTokens = 64;
  constexpr std::uint64_t kCopy = 64ull << 20;
  Buffer a = Buffer::create(dev, kCopy, MemoryKind::Device, "a");
  Buffer b = Buffer::create(dev, kCopy, MemoryKind::Device, "b");
  Buffer c = Buffer::create(dev, kCopy, MemoryKind::Device, "c");
  Buffer ids = Buffer::create(dev, 4 * kTokens, MemoryKind::Device, "ids");
  {
    CommandList init(*ctx);
    init.begin();
    init.fill_zero(a.range());
    init.fill_zero(b.range());
    init.fill_zero(ids.range());
    init.submit_and_wait();
  }

  std::vector<Result> results;
  const double stream_gbs = bench::stream_bandwidth_gbs(*ctx, runs);
  results.push_back({"stream: scale 64 MiB f32", bench::kStreamBytes, bench::kStreamBytes / (stream_gbs * 1e6)});

  const std::uint32_t n = kTokens * kHidden;
  results.push_back({"add [64, 3840] f32", 12.0 * n, bench::best_gpu_ms(*ctx, runs, [&](CommandList& cmd) {
                       ops::add(*ctx, cmd, a.range(), b.range(), c.range(), n);
                     })});
  results.push_back({"rms_norm [64, 3840] f32 + weight", 8.0 * n + 4 * kHidden, bench::best_gpu_ms(*ctx, runs, [&](CommandList& cmd) {
                       ops::rms_norm(*ctx, cmd, a.range(), b.range(), c.range(), kTokens, kHidden, 1e-6f);
                     })});
  const std::uint32_t rows = 4;  // fused gate|up of 4 tokens: 4 x 2 x 15360
  results.push_back({"geglu fused [4, 15360] f32", 12.0 * rows * kFfn, bench::best_gpu_ms(*ctx, runs, [&](CommandList& cmd) {
                       ops::geglu_fused(*ctx, cmd, a.range(), c.range(), rows, kFfn);
                     })});
  results.push_back({"softcap [262144] f32 (logits)", 8.0 * kVocab, bench::best_gpu_ms(*ctx, runs, [&](CommandList& cmd) {
                       ops::softcap(*ctx, cmd, a.range(), c.range(), kVocab, 30.0f);
                     })});
  // Embedding gather: 64 rows of a Q6_K table (row = 3840 elements = 3150 bytes).
  const std::uint64_t q6_row = dtype_bytes(DType::Q6_K, kHidden);
  const ops::TableChunk table[] = {{a.range(), 0, static_cast<std::uint32_t>(kCopy / q6_row)}};
  results.push_back({"get_rows Q6_K 64 x 3840", double(kTokens) * (q6_row + 4.0 * kHidden), bench::best_gpu_ms(*ctx, runs, [&](CommandList& cmd) {
                       ops::get_rows(*ctx, cmd, DType::Q6_K, table, ids.range(), c.range(), kTokens, kHidden, 61.97f);
                     })});
  if (json) {
    nlohmann::json doc{{"device", caps.name}, {"driver", caps.driver_info}, {"profile", caps.profile}, {"runs", runs},
                       {"stream_gb_per_s", stream_gbs}, {"kernels", nlohmann::json::array()}};
    for (const Result& r : results) {
      const double gbs = r.bytes / (r.ms * 1e6);
      doc["kernels"].push_back({{"name", r.name}, {"ms", r.ms}, {"gb_per_s", gbs}, {"pct_of_stream", 100.0 * gbs / stream_gbs}});
    }
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  std::printf("device: %s (%s)%s%s, best of %d runs, GPU timestamps\n", caps.name.c_str(), caps.driver_info.c_str(),
              caps.profile.empty() ? "" : ", profile ", caps.profile.c_str(), runs);
  std::printf("%-36s %10s %10s %12s\n", "kernel", "ms", "GB/s", "% of stream");
  for (const Result& r : results) {
    const double gbs = r.bytes / (r.ms * 1e6);
    std::printf("%-36s %10.4f %10.2f %11.1f%%\n", r.name.c_str(), r.ms, gbs, 100.0 * gbs / stream_gbs);
  }
  return 0;
}

}  // namespace
}  // namespace tessera

int main(int argc, char** argv) {
  try {
    return tessera::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tessera-bench-kernels: error: %s\n", e.what());
    return 1;
  }
}
