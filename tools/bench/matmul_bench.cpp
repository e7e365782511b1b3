#include "tools/bench/matmul_bench.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/error.h"
#include "engine/ops/matmul.h"
#include "runtime/quant/quantize.h"
#include "tools/bench/bench_util.h"

namespace tessera::bench {

std::vector<MatmulShape> gemma4_12b_matmul_shapes() {
  return {{"attn_q", 3840, 4096},        {"attn_k", 3840, 2048},        {"ffn_up", 3840, 15360},
          {"ffn_down", 15360, 3840},     {"attn_output.global", 8192, 3840}, {"output", 3840, 262144}};
}

double copy_bandwidth_gbs(Context& ctx, std::uint64_t bytes, int runs) {
  const auto [a, b] = zeroed_pair(ctx, bytes);
  const double ms = best_gpu_ms(ctx, runs, [&](CommandList& cmd) { cmd.copy(a.range(), b.range()); });
  return 2.0 * static_cast<double>(bytes) / (ms * 1e6);
}

namespace {

// A weight of n rows in chunks of at most the device's storage buffer range, one buffer per chunk
// (each padded to 4 bytes, as matmul binds them), filled with 64 random quantized rows repeated:
// real scales and values, so a driver has no zeros or denormals to take shortcuts on.
struct Weight {
  std::vector<Buffer> buffers;
  std::vector<ops::TableChunk> chunks;
};

Weight make_weight(Context& ctx, DType t, const MatmulShape& s) {
  const std::uint64_t row = dtype_bytes(t, s.k);
  const std::uint64_t limit = std::min<std::uint64_t>(ctx.caps().max_storage_buffer_range, 1ull << 30);
  const auto per_chunk = static_cast<std::uint32_t>(std::min<std::uint64_t>(s.n, (limit - 3) / row));
  if (per_chunk == 0)
    throw Error("[bench] one " + std::string(dtype_name(t)) + " row of " + std::to_string(s.k) +
                " elements exceeds the storage buffer range of " + ctx.caps().name);
  constexpr std::uint32_t kPattern = 64;
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<float> values(std::size_t{kPattern} * s.k);
  for (float& v : values) v = normal(rng);
  std::vector<std::byte> pattern(kPattern * row);
  quantize_rows(t, values.data(), pattern.data(), kPattern, s.k);
  Buffer staging = Buffer::create(ctx.device(), (per_chunk * row + 3) / 4 * 4, MemoryKind::Upload, "bench.staging");
  const std::span<std::byte> host = staging.mapped();
  for (std::uint64_t at = 0; at < host.size(); at += pattern.size())
    std::memcpy(host.data() + at, pattern.data(), std::min<std::uint64_t>(pattern.size(), host.size() - at));
  staging.flush();

  Weight w;
  w.buffers.reserve((s.n + per_chunk - 1) / per_chunk);
  CommandList init(ctx);
  init.begin();
  for (std::uint32_t r = 0; r < s.n; r += per_chunk) {
    const std::uint32_t rows = std::min(per_chunk, s.n - r);
    const std::uint64_t bytes = (rows * row + 3) / 4 * 4;
    w.buffers.push_back(Buffer::create(ctx.device(), bytes, MemoryKind::Device, "bench.weight"));
    init.copy(staging.range(0, bytes), w.buffers.back().range());
    w.chunks.push_back({w.buffers.back().range(0, rows * row), r, rows});
  }
  init.submit_and_wait();
  return w;
}

// Records y = x · Wᵀ for m rows in slices whose output fits one storage binding (the head at
// batch 512 would not): the same work as one call.
// The int-dot kernel's time includes quantizing its activations (xq) to Q8_1.
void record(Context& ctx, CommandList& cmd, DType t, const Weight& w, const Buffer& x, const Buffer& xq,
            const Buffer& y, std::uint32_t m, const MatmulShape& s, MatmulKernel kernel) {
  const std::uint64_t limit = ctx.caps().max_storage_buffer_range;
  std::uint32_t slice = static_cast<std::uint32_t>(std::clamp<std::uint64_t>(limit / (4ull * s.n), 1, m));
  if (slice < m && slice > 8) slice &= ~7u;  // keeps slice offsets aligned (k and n are multiples of 32)
  for (std::uint32_t r = 0; r < m; r += slice) {
    const std::uint32_t rows = std::min(slice, m - r);
    const BufferRange xr = x.range(4ull * r * s.k, 4ull * rows * s.k), yr = y.range(4ull * r * s.n, 4ull * rows * s.n);
    if (kernel == MatmulKernel::matvec_int_dot) {
      const BufferRange qr = xq.range(ops::q8_1_bytes(r, s.k), ops::q8_1_bytes(rows, s.k));
      ops::quantize_q8_1(ctx, cmd, xr, qr, rows, s.k);
      ops::matmul_q8_1(ctx, cmd, t, w.chunks, qr, yr, rows, s.k, s.n);
    } else {
      ops::matmul(ctx, cmd, t, w.chunks, xr, yr, rows, s.k, s.n, kernel);
    }
  }
}

}  // namespace

double MatmulBenchReport::batch1_ms(const MatmulBenchRow& r) const {
  for (const MatmulBenchRow& o : rows)
    if (o.m == 1 && !o.skipped && o.type == r.type && o.kernel == r.kernel && o.shape.name == r.shape.name) return o.ms;
  return 0;
}

nlohmann::json MatmulBenchReport::to_json() const {
  nlohmann::json doc{{"device", device},
                     {"driver", driver},
                     {"profile", profile},
                     {"copy_bytes", copy_bytes},
                     {"copy_gb_per_s", copy_gb_per_s},
                     {"results", nlohmann::json::array()}};
  for (const MatmulBenchRow& r : rows) {
    nlohmann::json j{{"shape", r.shape.name}, {"k", r.shape.k},  {"n", r.shape.n},
                     {"m", r.m},              {"type", dtype_name(r.type)}, {"kernel", matmul_kernel_name(r.kernel)},
                     {"planned", r.planned},  {"skipped", r.skipped}};
    if (r.skipped) {
      j["estimate_ms"] = r.estimate_ms;
    } else {
      const double b1 = batch1_ms(r);
      j.update({{"ms", r.ms},
                {"runs", r.runs},
                {"weight_gb_per_s", r.weight_gb_per_s()},
                {"gflops", r.gflops()},
                {"pct_of_copy", copy_gb_per_s > 0 ? 100.0 * r.weight_gb_per_s() / copy_gb_per_s : 0.0},
                {"x_batch1", b1 > 0 ? r.ms / b1 : 0.0}});
    }
    doc["results"].push_back(std::move(j));
  }
  return doc;
}

MatmulBenchReport run_matmul_bench(Context& ctx, const MatmulBenchOptions& o,
                                   const std::function<void(const MatmulBenchReport&)>& progress) {
  const DeviceCaps& caps = ctx.caps();
  if (!CommandList(ctx).timestamps_enabled())
    throw Error("[bench] " + caps.name + " has no compute timestamps: kernel times cannot be measured");
  MatmulBenchReport rep{caps.name, caps.driver_info, caps.profile, 0, 0, {}};
  rep.copy_bytes = std::min<std::uint64_t>(256ull << 20, caps.max_buffer_size ? caps.max_buffer_size : 256ull << 20);
  rep.copy_gb_per_s = copy_bandwidth_gbs(ctx, rep.copy_bytes);

  const std::uint32_t max_m = *std::max_element(o.batches.begin(), o.batches.end());
  std::uint32_t max_k = 0, max_n = 0;
  for (const MatmulShape& s : o.shapes) max_k = std::max(max_k, s.k), max_n = std::max(max_n, s.n);
  Buffer x = Buffer::create(ctx.device(), 4ull * max_m * max_k, MemoryKind::Device, "bench.x");
  Buffer y = Buffer::create(ctx.device(), 4ull * max_m * max_n, MemoryKind::Device, "bench.y");
  Buffer xq = Buffer::create(ctx.device(), ops::q8_1_bytes(max_m, max_k), MemoryKind::Device, "bench.xq");
  {
    CommandList init(ctx);
    init.begin();
    init.fill_zero(x.range());
    init.submit_and_wait();
  }
  // Measured (k*n, ms) per (type, kernel, m) and per (type, kernel) in this shape, to estimate a
  // case before running it: the same batch on the last shape scaled by weight size, else the last
  // batch of this shape scaled by rows.
  std::map<std::tuple<DType, MatmulKernel, std::uint32_t>, std::pair<double, double>> by_batch;
  // What a kernel's time grows with: activation rows, or for the tiled kernel its 32-row tiles.
  const auto tiles = [](MatmulKernel kernel, double m) { return kernel == MatmulKernel::tiled ? std::ceil(m / 32) : m; };
  CommandList cmd(ctx);
  for (const DType t : o.types)
    for (const MatmulShape& s : o.shapes) {
      const Weight w = make_weight(ctx, t, s);
      std::map<MatmulKernel, std::pair<double, double>> in_shape;  // kernel -> (m, ms)
      for (const std::uint32_t m : o.batches) {
        const MatmulKernel planned = ops::matmul_kernel_for(ctx.plan(), m, s.k);
        std::vector<MatmulKernel> kernels = ops::matmul_kernels(ctx, s.k);
        if (ops::matmul_q8_1_supported(caps, t) && s.k % 32 == 0) kernels.push_back(MatmulKernel::matvec_int_dot);
        for (const MatmulKernel kernel : kernels) {
          if (!o.all_variants && kernel != planned) continue;
          MatmulBenchRow row{s, t, m, kernel, kernel == planned};
          row.weight_bytes = static_cast<double>(dtype_bytes(t, s.k)) * s.n;
          row.flops = 2.0 * m * s.k * s.n;
          const double kn = double(s.k) * s.n;
          if (const auto it = by_batch.find({t, kernel, m}); it != by_batch.end())
            row.estimate_ms = it->second.second * kn / it->second.first;
          else if (const auto jt = in_shape.find(kernel); jt != in_shape.end())
            row.estimate_ms = jt->second.second * tiles(kernel, m) / tiles(kernel, jt->second.first);
          if (row.estimate_ms > 1e3 * o.max_seconds) {
            row.skipped = true;
          } else {
            const TimedRuns tr = time_after_warmup(cmd, o.runs, 250.0 * o.max_seconds, [&](CommandList& c) {
              record(ctx, c, t, w, x, xq, y, m, s, kernel);
            });
            row.ms = tr.ms;
            row.runs = tr.runs;
            by_batch[{t, kernel, m}] = {kn, row.ms};
            in_shape[kernel] = {double(m), row.ms};
          }
          rep.rows.push_back(std::move(row));
          if (progress) progress(rep);
        }
      }
    }
  return rep;
}

}  // namespace tessera::bench
