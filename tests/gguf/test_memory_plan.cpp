// Memory plan against the numbers of docs/gemma4-spec.md §9 (KV cache table, weight bytes) and
// hand-computed chunk counts for the binding / allocation limits.
#include <gtest/gtest.h>

#include "engine/error.h"
#include "gguf/gemma4_fixture.h"
#include "runtime/model/memory_plan.h"

namespace tessera {
namespace {

MemoryPlanOptions ctx(std::uint32_t n) {
  MemoryPlanOptions o;
  o.ctx_len = n;
  return o;
}

// Spec §9.2: sliding 8,192 B/token/layer, global 2,048 B/token/layer (f16 K + V); ring of
// window 1024 + ubatch 512 = 1536 cells for the 40 sliding layers = 503,316,480 B (480 MiB).
TEST(MemoryPlan, KvCacheMatchesSpecTable) {
  const Gemma4HParams hp = test::gemma4_12b_hparams();
  const KvCachePlan k4 = plan_kv_cache(hp, ctx(4096));
  EXPECT_EQ(k4.sliding_bytes_per_cell, 8192u);
  EXPECT_EQ(k4.global_bytes_per_cell, 2048u);
  EXPECT_EQ(k4.n_sliding_layers, 40u);
  EXPECT_EQ(k4.n_global_layers, 8u);
  EXPECT_EQ(k4.sliding_cells, 1536u);
  EXPECT_EQ(k4.global_cells, 4096u);
  EXPECT_EQ(k4.sliding_bytes, 503316480u);
  EXPECT_EQ(k4.global_bytes, 67108864u);  // 8 × 2048 × 4096
  EXPECT_EQ(k4.total_bytes, 570425344u);  // 0.53 GiB

  struct Row {
    std::uint32_t ctx;
    std::uint64_t ring_slack;  // spec column "ring + 512 slack"
    double gib;
  };
  const Row rows[] = {{8192, 637534208u, 0.59},      {32768, 1040187392u, 0.97},
                      {131072, 2650800128u, 2.47},   {262144, 4798283776u, 4.47}};
  for (const Row& r : rows) {
    const KvCachePlan k = plan_kv_cache(hp, ctx(r.ctx));
    EXPECT_EQ(k.total_bytes, r.ring_slack) << r.ctx;
    EXPECT_NEAR(static_cast<double>(k.total_bytes) / kGiB, r.gib, 0.005) << r.ctx;
  }
  // One layer's buffer, bound whole by attention: a global layer's K at 256K is 512 × 2 B per
  // cell (256 MiB, over a 128 MiB binding); at 4K the sliding ring's 1536 × 2048 × 2 B is larger.
  EXPECT_EQ(plan_kv_cache(hp, ctx(262144)).largest_buffer_bytes, 262144ull * 1024);
  EXPECT_EQ(plan_kv_cache(hp, ctx(4096)).largest_buffer_bytes, 1536ull * 4096);
}

TEST(MemoryPlan, KvCacheVariants) {
  const Gemma4HParams hp = test::gemma4_12b_hparams();
  MemoryPlanOptions full = ctx(32768);
  full.swa_full = true;  // spec column "full-history cache": 344,064 B/token
  EXPECT_EQ(plan_kv_cache(hp, full).total_bytes, 344064ull * 32768);  // 10.5 GiB
  full.ctx_len = 4096;
  EXPECT_EQ(plan_kv_cache(hp, full).total_bytes, 1409286144u);  // 1.3125 GiB
  full.ctx_len = 262144;
  EXPECT_EQ(plan_kv_cache(hp, full).total_bytes, 84 * kGiB);

  const KvCachePlan small = plan_kv_cache(hp, ctx(1000));  // shorter than the ring
  EXPECT_EQ(small.sliding_cells, 1000u);
  EXPECT_EQ(small.total_bytes, 40ull * 8192 * 1000 + 8ull * 2048 * 1000);

  MemoryPlanOptions f32 = ctx(4096);
  f32.kv_type = DType::F32;
  EXPECT_EQ(plan_kv_cache(hp, f32).total_bytes, 2 * 570425344ull);
  MemoryPlanOptions q8 = ctx(4096);
  q8.kv_type = DType::Q8_0;  // 2048 values = 64 blocks × 36 B (32 int8 + an f32 scale) per K or V row
  const KvCachePlan kq = plan_kv_cache(hp, q8);
  EXPECT_EQ(kq.sliding_bytes_per_cell, 2u * 64 * 36);
  EXPECT_EQ(kq.global_bytes_per_cell, 2u * 16 * 36);
  MemoryPlanOptions q4k = ctx(4096);
  q4k.kv_type = DType::Q4_K;  // a 512-wide global row is 2 blocks: fine; all rows are multiples of 256
  EXPECT_NO_THROW(plan_kv_cache(hp, q4k));

  Gemma4HParams odd = hp;
  odd.head_dim_swa = odd.value_dim_swa = 48;  // 8 × 48 = 384 is not a multiple of 256
  EXPECT_THROW(plan_kv_cache(odd, q4k), Error);

  Gemma4HParams drafter = hp;
  drafter.is_assistant = true;
  EXPECT_EQ(plan_kv_cache(drafter, ctx(32768)).total_bytes, 0u);
  EXPECT_THROW(plan_kv_cache(hp, ctx(0)), Error);
}

// per_token = 3·3840 + 16·512 (q) + 16·512 (o) + 8·(256+256) (new K,V) + 2·15360 = 62,720 floats.
TEST(MemoryPlan, Activations) {
  const Gemma4HParams hp = test::gemma4_12b_hparams();
  const ActivationPlan a = plan_activations(hp, ctx(4096));
  EXPECT_EQ(a.n_tokens, 512u);
  EXPECT_EQ(a.floats_per_token, 62720u);
  EXPECT_EQ(a.ubatch_bytes, 128450560u);  // 4 × 512 × 62,720 = 122.5 MiB
  EXPECT_EQ(a.logits_bytes, 1048576u);    // 262,144 × 4
  EXPECT_EQ(a.total_bytes, 129499136u);
  const ActivationPlan s = plan_activations(hp, ctx(100));
  EXPECT_EQ(s.n_tokens, 100u);
}

// Spec §9.1/§9.3: 11,906,580,480 matrix params (BF16: 23,813,160,960 B) plus 769,792 norm
// weights, 48 layer scalars and the 256-entry rope_freqs in F32 (3,080,384 B).
TEST(MemoryPlan, WeightsOf12BInBf16) {
  const auto tensors = test::gemma4_12b_tensors(DType::BF16);
  const Gemma4HParams hp = test::gemma4_12b_hparams();
  const MemoryPlan p = plan_memory(tensors, &hp, ctx(32768));
  EXPECT_EQ(p.n_tensors, 667u);
  ASSERT_EQ(p.weights_by_type.size(), 2u);
  EXPECT_EQ(p.weights_by_type[0].type, DType::F32);
  EXPECT_EQ(p.weights_by_type[0].n_tensors, 338u);
  EXPECT_EQ(p.weights_by_type[0].bytes, 3080384u);
  EXPECT_EQ(p.weights_by_type[1].type, DType::BF16);
  EXPECT_EQ(p.weights_by_type[1].n_tensors, 329u);
  EXPECT_EQ(p.weights_by_type[1].bytes, 23813160960u);
  EXPECT_EQ(p.weight_bytes, 23816241344u);  // 23.82 GB, 22.18 GiB
  EXPECT_EQ(p.kv.total_bytes, 1040187392u);
  EXPECT_EQ(p.total_bytes, 23816241344u + 1040187392u + 129499136u);
  // token_embd BF16: 2,013,265,920 B; rows of 7,680 B; 17,476 rows per 128 MiB binding
  // (17,476 × 7,680 = 134,215,680) → ceil(262,144 / 17,476) = 16 bindings; fits one 2 GiB allocation.
  EXPECT_EQ(p.largest.name, "token_embd.weight");
  EXPECT_EQ(p.largest.bytes, 2013265920u);
  EXPECT_EQ(p.largest.row_bytes, 7680u);
  EXPECT_EQ(p.largest.binding_chunks, 16u);
  EXPECT_EQ(p.largest.allocation_chunks, 1u);
  EXPECT_EQ(p.n_over_binding, 1u);  // ffn matrices are 117,964,800 B, under 128 MiB
  EXPECT_EQ(p.n_over_allocation, 0u);
}

TEST(MemoryPlan, SplitLargeTensors) {
  gguf::TensorInfo t;
  t.name = "token_embd.weight";
  t.ne = {3840, 262144};
  t.n_elements = 3840ull * 262144;
  t.type = DType::F32;  // 4,026,531,840 B, rows of 15,360 B
  t.n_bytes = t.n_elements * 4;
  // 8,738 rows per binding (8,738 × 15,360 = 134,215,680): 30 × 8,738 = 262,140 < 262,144 → 31.
  // 139,810 rows per allocation (2 GiB / 15,360 = 139,810.1): 2 allocations.
  TensorSplit s = split_tensor(t, 128 * kMiB, 2 * kGiB);
  EXPECT_EQ(s.binding_chunks, 31u);
  EXPECT_EQ(s.allocation_chunks, 2u);
  EXPECT_FALSE(s.row_exceeds_binding);
  t.type = DType::Q6_K;  // 825,753,600 B, rows of 15 × 210 = 3,150 B; 42,608 rows per binding → 7
  t.n_bytes = 825753600;
  s = split_tensor(t, 128 * kMiB, 2 * kGiB);
  EXPECT_EQ(s.row_bytes, 3150u);
  EXPECT_EQ(s.binding_chunks, 7u);
  EXPECT_EQ(s.allocation_chunks, 1u);
  gguf::TensorInfo wide;  // one row of 40,000,000 f32 = 160 MB > 128 MiB: split mid-row
  wide.name = "wide";
  wide.ne = {40000000};
  wide.n_elements = 40000000;
  wide.n_bytes = 160000000;
  s = split_tensor(wide, 128 * kMiB, 2 * kGiB);
  EXPECT_TRUE(s.row_exceeds_binding);
  EXPECT_EQ(s.binding_chunks, 2u);
  EXPECT_EQ(s.allocation_chunks, 1u);
}

TEST(MemoryPlan, WeightsOnlyWithoutHParams) {
  const auto tensors = test::gemma4_12b_tensors(DType::Q8_0);
  const MemoryPlan p = plan_memory(tensors, nullptr);
  EXPECT_FALSE(p.has_model);
  EXPECT_EQ(p.kv.total_bytes, 0u);
  EXPECT_EQ(p.act.total_bytes, 0u);
  // Q8_0: 34 bytes per 32 weights → 11,906,580,480 / 32 × 34 = 12,650,741,760 B (spec: 12.65 GB).
  EXPECT_EQ(p.weights_by_type[1].bytes, 12650741760u);
  EXPECT_EQ(p.total_bytes, p.weight_bytes);
  const MemoryPlan empty = plan_memory(std::span<const gguf::TensorInfo>(), nullptr);
  EXPECT_EQ(empty.total_bytes, 0u);
  EXPECT_TRUE(empty.largest.name.empty());
}

}  // namespace
}  // namespace tessera
