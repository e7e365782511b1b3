// `tessera bench attention`: flash attention on the Gemma 4 12B layer shapes (sliding: head dim
// 256, 16/8 heads, window 1024 over the ring; global: head dim 512, 16/1 heads, the whole
// context) at several KV lengths, decode (1 row) and prefill (the last 512-row ubatch of a
// prompt of that length), from GPU timestamps. Caches hold random keys and values written by
// kv_store, so f16 and Q8_0 caches carry real data.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/ops/attention.h"

namespace tessera::bench {

struct AttentionBenchOptions {
  std::vector<std::uint32_t> kv_lengths{512, 4096, 32768, 131072};
  std::vector<std::uint32_t> rows{1, 512};  // query rows per call: decode, prefill ubatch
  std::vector<ops::KvType> kv_types{ops::KvType::f16};
  int runs = 3;              // timed runs per case after a warm-up (best kept)
  double max_seconds = 5.0;  // skip a case whose estimated time per run is above this
};

struct AttentionBenchRow {
  std::string layer;  // "sliding" or "global"
  ops::AttentionShape shape;
  std::uint32_t kv_len = 0;   // positions in the context (the batch's last is kv_len - 1)
  std::uint32_t n_split = 1;  // the plan's key slices
  bool skipped = false;
  double estimate_ms = 0;
  int runs = 0;
  double ms = 0;
  double kv_bytes = 0;  // K and V bytes of the keys the batch sees (each read at least once)
  double flops = 0;     // 4 · rows · heads · head_dim per visible (row, key) pair: QKᵀ and PV
  double kv_gb_per_s() const { return kv_bytes / (ms * 1e6); }
  double gflops() const { return flops / (ms * 1e6); }
};

struct AttentionBenchReport {
  std::string device, driver, profile;
  double copy_gb_per_s = 0;
  std::vector<AttentionBenchRow> rows;
  nlohmann::json to_json() const;
};

// The two layer shapes of the 12B for m rows ending at position kv_len - 1 (ring cells as the
// KV cache plans them for a 512-token ubatch).
std::vector<std::pair<std::string, ops::AttentionShape>> gemma4_12b_attention_shapes(std::uint32_t kv_len,
                                                                                     std::uint32_t m,
                                                                                     ops::KvType type);

AttentionBenchReport run_attention_bench(Context& ctx, const AttentionBenchOptions& o,
                                         const std::function<void(const AttentionBenchReport&)>& progress = {});

}  // namespace tessera::bench
