#include "tools/bench/attention_bench.h"

#include <algorithm>
#include <map>
#include <random>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/error.h"
#include "engine/transfer.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/matmul_bench.h"

namespace tessera::bench {

std::vector<std::pair<std::string, ops::AttentionShape>> gemma4_12b_attention_shapes(std::uint32_t kv_len,
                                                                                     std::uint32_t m,
                                                                                     ops::KvType type) {
  constexpr std::uint32_t kWindow = 1024, kUbatch = 512, kPad = 256;
  const std::uint32_t ring = std::min(kv_len, (kWindow + kUbatch + kPad - 1) / kPad * kPad);
  const std::uint32_t pos0 = kv_len - m;
  return {{"sliding", {256, 16, 8, m, pos0, ring, kWindow, 1.0f, type}},
          {"global", {512, 16, 1, m, pos0, kv_len, 0, 1.0f, type}}};
}

namespace {

// Visible (row, key) pairs of a causal (windowed) batch.
double visible_pairs(const ops::AttentionShape& s) {
  double n = 0;
  for (std::uint32_t t = 0; t < s.m; ++t) {
    const std::uint32_t pq = s.pos0 + t;
    n += s.window != 0 ? std::min(s.window, pq + 1) : pq + 1;
  }
  return n;
}

// A cache of `cells` rows filled by kv_store from 512 random rows, repeated.
Buffer make_cache(Context& ctx, const ops::AttentionShape& s, std::uint32_t seed) {
  const std::uint32_t width = s.n_kv_head * s.head_dim, chunk = std::min<std::uint32_t>(512, s.cells);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> rows(std::size_t{chunk} * width);
  for (float& v : rows) v = normal(rng);
  Buffer src = Buffer::create(ctx.device(), 4ull * rows.size(), MemoryKind::Device, "bench.kv_rows");
  upload(ctx, std::as_bytes(std::span(rows)), src.range());
  Buffer cache = Buffer::create(ctx.device(), ops::kv_cache_bytes(s.kv_type, s.cells, width), MemoryKind::Device,
                                "bench.kv");
  CommandList cmd(ctx);
  cmd.begin();
  for (std::uint32_t p = 0; p < s.cells; p += chunk)
    ops::kv_store(ctx, cmd, src.range(), cache.range(), std::min(chunk, s.cells - p), width, p, s.cells, s.kv_type);
  cmd.submit_and_wait();
  return cache;
}

}  // namespace

nlohmann::json AttentionBenchReport::to_json() const {
  nlohmann::json doc{{"device", device}, {"driver", driver}, {"profile", profile}, {"copy_gb_per_s", copy_gb_per_s},
                     {"results", nlohmann::json::array()}};
  for (const AttentionBenchRow& r : rows) {
    nlohmann::json j{{"layer", r.layer},        {"kv_len", r.kv_len},  {"m", r.shape.m},
                     {"head_dim", r.shape.head_dim}, {"n_head", r.shape.n_head}, {"n_kv_head", r.shape.n_kv_head},
                     {"cells", r.shape.cells},  {"window", r.shape.window}, {"kv_type", ops::kv_type_name(r.shape.kv_type)},
                     {"n_split", r.n_split},    {"skipped", r.skipped}};
    if (r.skipped) {
      j["estimate_ms"] = r.estimate_ms;
    } else {
      j.update({{"ms", r.ms}, {"runs", r.runs}, {"kv_gb_per_s", r.kv_gb_per_s()}, {"gflops", r.gflops()},
                {"pct_of_copy", copy_gb_per_s > 0 ? 100.0 * r.kv_gb_per_s() / copy_gb_per_s : 0.0}});
    }
    doc["results"].push_back(std::move(j));
  }
  return doc;
}

AttentionBenchReport run_attention_bench(Context& ctx, const AttentionBenchOptions& o,
                                         const std::function<void(const AttentionBenchReport&)>& progress) {
  const DeviceCaps& caps = ctx.caps();
  if (!CommandList(ctx).timestamps_enabled())
    throw Error("[bench] " + caps.name + " has no compute timestamps: kernel times cannot be measured");
  AttentionBenchReport rep{caps.name, caps.driver_info, caps.profile, 0, {}};
  rep.copy_gb_per_s = copy_bandwidth_gbs(ctx, std::min<std::uint64_t>(256ull << 20, caps.max_buffer_size));
  // ms per visible (row, key) pair, per layer and row count, from the last measured KV length.
  std::map<std::pair<std::string, std::uint32_t>, double> ms_per_pair;
  CommandList cmd(ctx);
  for (const ops::KvType type : o.kv_types)
    for (const std::uint32_t m : o.rows)
      for (const std::uint32_t kv_len : o.kv_lengths) {
        if (m > kv_len) continue;
        for (const auto& [layer, s] : gemma4_12b_attention_shapes(kv_len, m, type)) {
          AttentionBenchRow row{layer, s, kv_len};
          row.n_split = ops::attention_splits(ctx.plan(), s);
          const double pairs = visible_pairs(s);
          const std::uint32_t keys = ops::attention_key_range(s).count();
          row.kv_bytes = 2.0 * double(ops::kv_cache_bytes(type, keys, s.n_kv_head * s.head_dim));
          row.flops = 4.0 * pairs * s.n_head * s.head_dim;
          if (const auto it = ms_per_pair.find({layer, m}); it != ms_per_pair.end()) row.estimate_ms = it->second * pairs;
          if (row.estimate_ms > 1e3 * o.max_seconds) {
            row.skipped = true;
          } else {
            const Buffer k = make_cache(ctx, s, 1), v = make_cache(ctx, s, 2);
            const std::uint64_t q_bytes = 4ull * s.m * s.n_head * s.head_dim;
            Buffer q = Buffer::create(ctx.device(), q_bytes, MemoryKind::Device, "bench.q");
            Buffer out = Buffer::create(ctx.device(), q_bytes, MemoryKind::Device, "bench.o");
            Buffer scratch = Buffer::create(ctx.device(), std::max<std::uint64_t>(4, ops::attention_scratch_bytes(s, row.n_split)),
                                            MemoryKind::Device, "bench.scratch");
            {
              // Queries: rows of the key cache's source distribution, scaled down as QK-norm leaves them.
              std::mt19937 rng(3);
              std::normal_distribution<float> normal(0.0f, 1.0f / 16);
              std::vector<float> qv(q_bytes / 4);
              for (float& x : qv) x = normal(rng);
              upload(ctx, std::as_bytes(std::span(qv)), q.range());
            }
            ops::AttentionOptions opt;
            opt.scratch = scratch.range();
            const TimedRuns tr = time_after_warmup(cmd, o.runs, 250.0 * o.max_seconds, [&](CommandList& c) {
              ops::attention(ctx, c, s, q.range(), k.range(), v.range(), out.range(), opt);
            });
            row.ms = tr.ms;
            row.runs = tr.runs;
            ms_per_pair[{layer, m}] = tr.ms / pairs;
          }
          rep.rows.push_back(std::move(row));
          if (progress) progress(rep);
        }
      }
  return rep;
}

}  // namespace tessera::bench
