#include "engine/ops/attention.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <string>

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {

namespace {

constexpr const char* kOp = "attention";

// flash_attn's tile sizes (shaders/flash_attn.comp: R_MAX, Q_SHARED of the large / small variants).
struct TileShape {
  std::uint32_t max_rows;  // R_MAX
  std::uint32_t q_shared;  // floats of the query tile
};
TileShape tile_shape(const KernelPlan& plan) { return plan.attention_large ? TileShape{16, 4096} : TileShape{8, 2048}; }

// The kernel: large or small tiles; LANES where the plan asks for it and each subgroup stays inside
// one key group of the P.V loop (head dims a multiple of 4 x the subgroup size).
KernelId flash_kernel(const KernelPlan& plan, const DeviceCaps& caps, const AttentionShape& s) {
  const std::uint32_t sg = plan.required_subgroup_size ? plan.required_subgroup_size : caps.subgroup_size;
  const bool lanes = plan.attention_lanes && sg >= 8 && s.head_dim % (4 * sg) == 0;
  if (plan.attention_large) return lanes ? KernelId::flash_attn_lanes : KernelId::flash_attn;
  return lanes ? KernelId::flash_attn_small_lanes : KernelId::flash_attn_small;
}

// Query rows per workgroup: as many as the tile holds, no more than the rows that share a KV
// head, a power of two (one pipeline per value).
std::uint32_t rows_per_group(const TileShape& v, const AttentionShape& s) {
  const std::uint32_t fit = std::min(v.max_rows, v.q_shared / s.head_dim);
  const std::uint32_t rows = s.m * (s.n_head / s.n_kv_head);
  return std::bit_floor(std::max<std::uint32_t>(1, std::min(fit, std::bit_ceil(rows))));
}

std::uint32_t row_tiles(const KernelPlan& plan, const AttentionShape& s) {
  const std::uint32_t r = rows_per_group(tile_shape(plan), s);
  return (s.m * (s.n_head / s.n_kv_head) + r - 1) / r;
}

std::uint32_t lowest_visible(const AttentionShape& s) {
  return s.window != 0 && s.pos0 + 1 > s.window ? s.pos0 + 1 - s.window : 0;
}

void check_shape(const KernelPlan& plan, const AttentionShape& s) {
  require(s.m > 0 && s.n_head > 0 && s.n_kv_head > 0 && s.head_dim > 0 && s.cells > 0, kOp, "empty shape");
  require(s.n_head % s.n_kv_head == 0, kOp,
          std::to_string(s.n_head) + " query heads are not a multiple of " + std::to_string(s.n_kv_head) +
              " KV heads");
  const std::uint32_t align = s.kv_type == KvType::q8_0 ? 32 : 4;
  require(s.head_dim % align == 0 && s.head_dim <= 512, kOp,
          "head_dim " + std::to_string(s.head_dim) + " must be a multiple of " + std::to_string(align) + " (" +
              kv_type_name(s.kv_type) + " cache) and at most 512");
  require(!(s.kv_type == KvType::q8_0 && s.head_dim == 256 && !plan.quantized_v_cache_hd256), kOp,
          "a q8_0 V cache at head dim 256 is avoided on this device (driver quirk quantized_v_cache_hd256: garbled "
          "output); use an f16 cache for these layers");
  // Every key a query can see must still be in the cache: the oldest visible position of the
  // first query and the newest of the last must be fewer than `cells` apart.
  const std::uint64_t span = attention_key_range(s).count();
  require(span <= s.cells, kOp,
          "the visible keys span " + std::to_string(span) + " positions but the cache holds " +
              std::to_string(s.cells));
}

}  // namespace

const char* kv_type_name(KvType t) { return t == KvType::q8_0 ? "q8_0" : "f16"; }

std::optional<KvType> parse_kv_type(std::string_view s) {
  std::string l(s);
  for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "f16") return KvType::f16;
  if (l == "q8_0") return KvType::q8_0;
  return std::nullopt;
}

std::uint64_t kv_cache_bytes(KvType t, std::uint32_t cells, std::uint32_t width) {
  const std::uint64_t n = std::uint64_t{cells} * width;
  return t == KvType::q8_0 ? n + n / 32 * 4 : 2 * n;
}

void kv_store(Context& ctx, CommandList& cmd, const BufferRange& src, const BufferRange& cache, std::uint32_t m,
              std::uint32_t width, std::uint32_t pos0, std::uint32_t cells, KvType type) {
  constexpr const char* op = "kv_store";
  require(m > 0 && width > 0 && cells > 0, op,
          "empty shape: " + std::to_string(m) + " rows of " + std::to_string(width) + " into " +
              std::to_string(cells) + " cells");
  const std::uint32_t align = type == KvType::q8_0 ? 32 : 2;
  require(width % align == 0, op,
          "row width " + std::to_string(width) + " is not a multiple of " + std::to_string(align) + " (" +
              kv_type_name(type) + " rows)");
  require(m <= cells, op,
          std::to_string(m) + " new rows do not fit a cache of " + std::to_string(cells) + " cells");
  require_bytes(op, "src", src, 4ull * m * width);
  require_bytes(op, "cache", cache, kv_cache_bytes(type, cells, width));
  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const KernelId kernel = type == KvType::q8_0 ? KernelId::kv_store_q8_0 : KernelId::kv_store;
  const Pipeline& p = ctx.pipeline({kernel, 2, sizeof(shader::KvStoreParams), {wg}});
  const shader::KvStoreParams params{width, m, pos0, cells};
  const std::uint64_t items = std::uint64_t{m} * width / (type == KvType::q8_0 ? 32 : 2);
  cmd.dispatch(p, {src, cache}, params, groups_1d(plan, items, wg));
}

std::uint32_t kv_chunk_cells(KvType t, std::uint32_t cells, std::uint32_t width, std::uint64_t max_binding) {
  if (kv_cache_bytes(t, cells, width) <= max_binding) return cells;
  const std::uint32_t half = cells - cells / 2;
  return kv_cache_bytes(t, half, width) <= max_binding ? half : 0;
}

KeyRange attention_key_range(const AttentionShape& s) { return {lowest_visible(s), s.pos0 + s.m - 1}; }

std::uint32_t attention_splits(const KernelPlan& plan, const AttentionShape& s) {
  // Enough workgroups to fill a GPU (~64) when the rows alone give few, with slices of at least
  // 256 keys, at most 32 slices.
  const std::uint32_t groups = row_tiles(plan, s) * s.n_kv_head;
  if (groups >= 64) return 1;
  const std::uint32_t keys = attention_key_range(s).count();
  return std::clamp<std::uint32_t>(std::min(keys / 256, (64 + groups - 1) / groups), 1, 32);
}

std::uint64_t attention_scratch_bytes(const AttentionShape& s, std::uint32_t n_split) {
  if (n_split <= 1) return 0;
  return 4ull * n_split * s.m * s.n_head * (s.head_dim + 2);
}

void attention(Context& ctx, CommandList& cmd, const AttentionShape& s, const BufferRange& q,
               const BufferRange& k_cache, const BufferRange& v_cache, const BufferRange& o,
               const AttentionOptions& opt) {
  const KernelPlan& plan = ctx.plan();
  check_shape(plan, s);
  const std::uint64_t rows = std::uint64_t{s.m} * s.n_head;
  require_bytes(kOp, "q", q, 4 * rows * s.head_dim);
  require_bytes(kOp, "o", o, 4 * rows * s.head_dim);
  const std::uint32_t chunk_cells = s.chunk_cells != 0 ? std::min(s.chunk_cells, s.cells) : s.cells;
  require(2ull * chunk_cells >= s.cells, kOp,
          std::to_string(s.cells) + " cells do not fit two chunks of " + std::to_string(chunk_cells));
  const std::uint64_t cache_bytes = kv_cache_bytes(s.kv_type, chunk_cells, s.n_kv_head * s.head_dim);
  require_bytes(kOp, "k_cache", k_cache, cache_bytes);
  require_bytes(kOp, "v_cache", v_cache, cache_bytes);
  const bool chunked = chunk_cells < s.cells;
  if (chunked) {
    require(opt.k_chunk1.has_value() && opt.v_chunk1.has_value(), kOp,
            "a cache in chunks of " + std::to_string(chunk_cells) + " cells needs k_chunk1 and v_chunk1");
    require_bytes(kOp, "k_chunk1", *opt.k_chunk1, cache_bytes);
    require_bytes(kOp, "v_chunk1", *opt.v_chunk1, cache_bytes);
  }
  if (opt.limits) require_bytes(kOp, "limits", *opt.limits, 4ull * s.m);

  const std::uint32_t n_split = opt.n_split != 0 ? opt.n_split : attention_splits(plan, s);
  require(n_split >= 1 && n_split <= 256, kOp, std::to_string(n_split) + " key slices (1..256)");
  if (n_split > 1) require_bytes(kOp, "scratch", opt.scratch, attention_scratch_bytes(s, n_split));

  const KeyRange keys = attention_key_range(s);
  shader::FlashAttnParams params{s.head_dim, s.n_head,  s.n_kv_head, s.m, s.pos0, s.cells, s.window, s.scale,
                                 opt.limits ? 1u : 0u, n_split, 0,   0,   0, chunk_cells};
  if (opt.capture) {
    const AttentionCapture& c = *opt.capture;
    require(s.n_head <= 32, kOp, "capture covers at most 32 heads, not " + std::to_string(s.n_head));
    require(c.heads != 0 && (s.n_head == 32 || c.heads >> s.n_head == 0), kOp,
            "capture heads mask selects no head or a head past " + std::to_string(s.n_head));
    require_bytes(kOp, "capture scores", c.scores,
                  4ull * s.m * static_cast<std::uint32_t>(std::popcount(c.heads)) * keys.count());
    params.cap_heads = c.heads;
    params.cap_lo = keys.lo;
    params.cap_cols = keys.count();
  }

  const std::uint32_t r = rows_per_group(tile_shape(plan), s);
  const std::uint32_t kv_type = s.kv_type == KvType::q8_0 ? 1 : 0;
  const Pipeline& p = ctx.pipeline({flash_kernel(plan, ctx.caps(), s), 9, sizeof(params), {kv_type, opt.capture ? 1u : 0u, r}});
  // Unused bindings get a buffer that is bound anyway (never read or written then).
  const BufferRange limits = opt.limits ? *opt.limits : q;
  const BufferRange scratch = n_split > 1 ? opt.scratch : o;
  const BufferRange scores = opt.capture ? opt.capture->scores : o;
  const std::uint32_t tiles = row_tiles(plan, s);
  require(tiles <= plan.max_groups_x, kOp,
          std::to_string(tiles) + " row tiles exceed the grid width " + std::to_string(plan.max_groups_x) +
              " (split the batch)");
  const BufferRange k1 = chunked ? *opt.k_chunk1 : k_cache, v1 = chunked ? *opt.v_chunk1 : v_cache;
  cmd.dispatch(p, {q, k_cache, v_cache, o, limits, scratch, scores, k1, v1}, params, tiles, s.n_kv_head, n_split);
  if (n_split > 1) {
    const std::uint32_t wg = std::min<std::uint32_t>(plan.reduce_workgroup, 128);
    const Pipeline& rp = ctx.pipeline({KernelId::flash_attn_reduce, 2, sizeof(shader::FlashReduceParams), {wg}});
    const shader::FlashReduceParams rparams{s.head_dim, static_cast<std::uint32_t>(rows), n_split};
    const RowGrid g = row_grid(plan, rows);
    cmd.dispatch(rp, {opt.scratch, o}, rparams, g.x, g.y);
  }
}

void attention_capture_maps(Context& ctx, CommandList& cmd, const AttentionShape& s, const AttentionCapture& cap,
                            const std::optional<BufferRange>& limits, std::uint32_t bins, const BufferRange& map) {
  constexpr const char* op = "attention_capture_maps";
  const KernelPlan& plan = ctx.plan();
  check_shape(plan, s);
  const KeyRange keys = attention_key_range(s);
  const auto n_cap = static_cast<std::uint32_t>(std::popcount(cap.heads));
  require(n_cap > 0, op, "no captured head");
  require(bins >= 1 && bins <= std::min<std::uint32_t>(4096, keys.count()), op,
          std::to_string(bins) + " bins for " + std::to_string(keys.count()) + " keys (1 .. min(keys, 4096))");
  require_bytes(op, "scores", cap.scores, 4ull * s.m * n_cap * keys.count());
  require_bytes(op, "map", map, 4ull * s.m * n_cap * bins);
  if (limits) require_bytes(op, "limits", *limits, 4ull * s.m);
  const std::uint32_t wg = plan.reduce_workgroup;
  const KernelId kernel = plan.subgroup_reduce ? KernelId::attn_capture : KernelId::attn_capture_shared;
  const Pipeline& p = ctx.pipeline({kernel, 3, sizeof(shader::AttnCaptureParams), {wg}});
  const shader::AttnCaptureParams params{s.m,      n_cap,   keys.count(), bins,
                                         s.pos0,   s.window, limits ? 1u : 0u, keys.lo};
  const RowGrid g = row_grid(plan, std::uint64_t{s.m} * n_cap);
  cmd.dispatch(p, {cap.scores, limits ? *limits : cap.scores, map}, params, g.x, g.y);
}

}  // namespace tessera::ops
