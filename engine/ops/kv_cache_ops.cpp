#include "engine/ops/kv_cache_ops.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

void kv_store(Context& ctx, CommandList& cmd, const BufferRange& src, const BufferRange& cache, std::uint32_t m,
              std::uint32_t width, std::uint32_t pos0, std::uint32_t cells) {
  constexpr const char* op = "kv_store";
  require(m > 0 && width > 0 && cells > 0, op,
          "empty shape: " + std::to_string(m) + " rows of " + std::to_string(width) + " into " +
              std::to_string(cells) + " cells");
  require(width % 2 == 0, op, "row width " + std::to_string(width) + " is odd (rows are stored as f16 pairs)");
  require(m <= cells, op,
          std::to_string(m) + " new rows do not fit a cache of " + std::to_string(cells) + " cells");
  require_bytes(op, "src", src, 4ull * m * width);
  require_bytes(op, "cache", cache, 2ull * cells * width);
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({KernelId::kv_store, 2, sizeof(shader::KvStoreParams), {wg}});
  const shader::KvStoreParams params{width, m, pos0, cells};
  cmd.dispatch(p, {src, cache}, params, groups_1d(plan, std::uint64_t{m} * width / 2, wg));
}

void attention(Context& ctx, CommandList& cmd, const AttentionShape& s, const BufferRange& q,
               const BufferRange& k_cache, const BufferRange& v_cache, const BufferRange& o) {
  constexpr const char* op = "attention";
  require(s.m > 0 && s.n_head > 0 && s.n_kv_head > 0 && s.head_dim > 0 && s.cells > 0, op, "empty shape");
  require(s.n_head % s.n_kv_head == 0, op,
          std::to_string(s.n_head) + " query heads are not a multiple of " + std::to_string(s.n_kv_head) +
              " KV heads");
  require(s.head_dim % 2 == 0 && s.head_dim <= 1024, op,
          "head_dim " + std::to_string(s.head_dim) + " must be even and at most 1024");
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.reduce_workgroup;
  require(s.head_dim <= 8 * wg && wg <= 256, op,
          "head_dim " + std::to_string(s.head_dim) + " needs a workgroup of at least " +
              std::to_string((s.head_dim + 7) / 8) + " (plan: " + std::to_string(wg) + ")");
  // Every key a query can see must still be in the cache: the oldest visible position of the
  // first query and the newest of the last must be fewer than `cells` apart.
  const std::uint64_t span =
      s.window != 0 ? std::min<std::uint64_t>(s.window, std::uint64_t{s.pos0} + 1) + s.m - 1 : std::uint64_t{s.pos0} + s.m;
  require(span <= s.cells, op,
          "the visible keys span " + std::to_string(span) + " positions but the cache holds " +
              std::to_string(s.cells));
  const std::uint64_t rows = std::uint64_t{s.m} * s.n_head;
  require_bytes(op, "q", q, 4 * rows * s.head_dim);
  require_bytes(op, "o", o, 4 * rows * s.head_dim);
  const std::uint64_t cache_bytes = 2ull * s.cells * s.n_kv_head * s.head_dim;
  require_bytes(op, "k_cache", k_cache, cache_bytes);
  require_bytes(op, "v_cache", v_cache, cache_bytes);
  const KernelId kernel = plan.subgroup_reduce ? KernelId::attention : KernelId::attention_shared;
  const Pipeline& p = ctx.pipeline({kernel, 4, sizeof(shader::AttentionParams), {wg}});
  const shader::AttentionParams params{s.head_dim, s.n_head, s.n_kv_head, s.m, s.pos0, s.cells, s.window, s.scale};
  const RowGrid g = row_grid(plan, rows);
  cmd.dispatch(p, {q, k_cache, v_cache, o}, params, g.x, g.y);
}

}  // namespace tessera::ops
