// `tessera bench kernels`: every runnable matmul variant on the Gemma 4 12B linear-layer shapes at
// decode, verify and prefill batch sizes, against the device's copy bandwidth measured here
// (a large vkCmdCopyBuffer), from GPU timestamps. Weights are random rows quantized to the type:
// the traffic and arithmetic of real weights, without reading a model file.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/dtype.h"
#include "engine/plan.h"

namespace tessera::bench {

struct MatmulShape {
  std::string name;     // the 12B layer it is, e.g. "ffn_up"
  std::uint32_t k = 0;  // input width
  std::uint32_t n = 0;  // output width (weight rows)
};

// The 12B shapes: attention q / kv / o, the feed-forward up and down, and the tied output head.
std::vector<MatmulShape> gemma4_12b_matmul_shapes();

struct MatmulBenchOptions {
  std::vector<DType> types{DType::Q4_K, DType::Q6_K, DType::Q8_0};
  std::vector<std::uint32_t> batches{1, 4, 16, 512};
  std::vector<MatmulShape> shapes = gemma4_12b_matmul_shapes();
  bool all_variants = true;   // every runnable variant, else only the plan's choice
  int runs = 3;               // timed runs per case after a warm-up (best kept; 1 for slow cases)
  double max_seconds = 5.0;   // skip a case whose estimated time per run is above this
};

struct MatmulBenchRow {
  MatmulShape shape;
  DType type = DType::F32;
  std::uint32_t m = 0;  // activation rows (batch)
  MatmulKernel kernel = MatmulKernel::automatic;
  bool planned = false;  // the plan's choice for this batch
  bool skipped = false;  // estimated above max_seconds: not run
  double estimate_ms = 0;  // the estimate that skipped it
  int runs = 0;
  double ms = 0;  // best GPU time of one run
  double weight_bytes = 0;
  double flops = 0;
  double weight_gb_per_s() const { return weight_bytes / (ms * 1e6); }
  double gflops() const { return flops / (ms * 1e6); }
};

struct MatmulBenchReport {
  std::string device, driver, profile;
  double copy_gb_per_s = 0;  // bytes read + written per second by one large buffer copy
  std::uint64_t copy_bytes = 0;
  std::vector<MatmulBenchRow> rows;
  nlohmann::json to_json() const;
  // Time of the batch-1 row of the same shape, type and kernel (0: none measured).
  double batch1_ms(const MatmulBenchRow& r) const;
};

// Measures the copy bandwidth, then runs the cases in order type > shape > batch > kernel;
// `progress` sees the report after each row is added (the new row is rows.back()).
// Throws tessera::Error when the device has no compute timestamps.
MatmulBenchReport run_matmul_bench(Context& ctx, const MatmulBenchOptions& o,
                                   const std::function<void(const MatmulBenchReport&)>& progress = {});

// GB/s of the best of `runs` copies of `bytes` between two device buffers (read + written).
double copy_bandwidth_gbs(Context& ctx, std::uint64_t bytes, int runs = 3);

}  // namespace tessera::bench
