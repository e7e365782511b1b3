#include "engine/ops/matmul.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>
#include <vector>

#include "engine/ops/geglu.h"
#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {
namespace {

constexpr std::uint32_t kMatmulTileM = 8;  // activation rows per workgroup (TILE_M in matmul.comp)

// The kernel for `t`, with subgroup or shared-memory reduction.
KernelId matmul_kernel(DType t, bool subgroup) {
  switch (t) {
    case DType::F32: return subgroup ? KernelId::matmul_f32 : KernelId::matmul_f32_shared;
    case DType::F16: return subgroup ? KernelId::matmul_f16 : KernelId::matmul_f16_shared;
    case DType::BF16: return subgroup ? KernelId::matmul_bf16 : KernelId::matmul_bf16_shared;
    case DType::Q4_0: return subgroup ? KernelId::matmul_q4_0 : KernelId::matmul_q4_0_shared;
    case DType::Q4_1: return subgroup ? KernelId::matmul_q4_1 : KernelId::matmul_q4_1_shared;
    case DType::Q5_0: return subgroup ? KernelId::matmul_q5_0 : KernelId::matmul_q5_0_shared;
    case DType::Q8_0: return subgroup ? KernelId::matmul_q8_0 : KernelId::matmul_q8_0_shared;
    case DType::Q4_K: return subgroup ? KernelId::matmul_q4_k : KernelId::matmul_q4_k_shared;
    case DType::Q5_K: return subgroup ? KernelId::matmul_q5_k : KernelId::matmul_q5_k_shared;
    case DType::Q6_K: return subgroup ? KernelId::matmul_q6_k : KernelId::matmul_q6_k_shared;
  }
  throw Error("[matmul] unsupported type id " + std::to_string(static_cast<std::uint32_t>(t)));
}

KernelId tiled_kernel(DType t) {
  switch (t) {
    case DType::F32: return KernelId::matmul_tiled_f32;
    case DType::F16: return KernelId::matmul_tiled_f16;
    case DType::BF16: return KernelId::matmul_tiled_bf16;
    case DType::Q4_0: return KernelId::matmul_tiled_q4_0;
    case DType::Q4_1: return KernelId::matmul_tiled_q4_1;
    case DType::Q5_0: return KernelId::matmul_tiled_q5_0;
    case DType::Q8_0: return KernelId::matmul_tiled_q8_0;
    case DType::Q4_K: return KernelId::matmul_tiled_q4_k;
    case DType::Q5_K: return KernelId::matmul_tiled_q5_k;
    case DType::Q6_K: return KernelId::matmul_tiled_q6_k;
  }
  throw Error("[matmul] unsupported type id " + std::to_string(static_cast<std::uint32_t>(t)));
}

// The matvec kernel for `t`, plain or with the fused up projection and GeGLU.
KernelId matvec_kernel(DType t, bool geglu) {
  switch (t) {
    case DType::F32: return geglu ? KernelId::matvec_f32_geglu : KernelId::matvec_f32;
    case DType::F16: return geglu ? KernelId::matvec_f16_geglu : KernelId::matvec_f16;
    case DType::BF16: return geglu ? KernelId::matvec_bf16_geglu : KernelId::matvec_bf16;
    case DType::Q4_0: return geglu ? KernelId::matvec_q4_0_geglu : KernelId::matvec_q4_0;
    case DType::Q4_1: return geglu ? KernelId::matvec_q4_1_geglu : KernelId::matvec_q4_1;
    case DType::Q5_0: return geglu ? KernelId::matvec_q5_0_geglu : KernelId::matvec_q5_0;
    case DType::Q8_0: return geglu ? KernelId::matvec_q8_0_geglu : KernelId::matvec_q8_0;
    case DType::Q4_K: return geglu ? KernelId::matvec_q4_k_geglu : KernelId::matvec_q4_k;
    case DType::Q5_K: return geglu ? KernelId::matvec_q5_k_geglu : KernelId::matvec_q5_k;
    case DType::Q6_K: return geglu ? KernelId::matvec_q6_k_geglu : KernelId::matvec_q6_k;
  }
  throw Error("[matmul] unsupported type id " + std::to_string(static_cast<std::uint32_t>(t)));
}

// The int-dot matvec kernel (Q8_1 activations) for a quantized `t`.
KernelId matvec_q8_1_kernel(DType t) {
  switch (t) {
    case DType::Q4_0: return KernelId::matvec_q4_0_q8_1;
    case DType::Q4_1: return KernelId::matvec_q4_1_q8_1;
    case DType::Q5_0: return KernelId::matvec_q5_0_q8_1;
    case DType::Q8_0: return KernelId::matvec_q8_0_q8_1;
    case DType::Q4_K: return KernelId::matvec_q4_k_q8_1;
    case DType::Q5_K: return KernelId::matvec_q5_k_q8_1;
    case DType::Q6_K: return KernelId::matvec_q6_k_q8_1;
    case DType::F32:
    case DType::F16:
    case DType::BF16: break;
  }
  throw Error("[matmul] the integer-dot kernel needs a quantized weight, not " + std::string(dtype_name(t)));
}

constexpr std::uint32_t kTiledRows = 64;           // BN in matmul_tiled.comp
constexpr std::uint32_t kMatvecMaxWorkgroup = 128;  // MAX_WG in matvec.comp
constexpr std::uint32_t kMatvecMaxCols = 16;        // MAX_COLS in matvec.comp

// Throws unless the chunks, taken in row order, cover rows [0, n) exactly once.
void require_cover(std::span<const TableChunk> w, std::uint32_t n) {
  require(!w.empty(), "matmul", "weight has no chunks");
  std::vector<std::pair<std::uint64_t, std::uint64_t>> rows;  // [begin, end)
  for (const TableChunk& c : w) {
    require(c.row_count > 0, "matmul", "weight chunk at row " + std::to_string(c.row_begin) + " has no rows");
    rows.emplace_back(c.row_begin, std::uint64_t{c.row_begin} + c.row_count);
  }
  std::sort(rows.begin(), rows.end());
  std::uint64_t next = 0;
  for (const auto& [begin, end] : rows) {
    require(begin == next, "matmul",
            "weight chunks must cover rows 0.." + std::to_string(n) + " once: " +
                (begin < next ? "rows from " + std::to_string(begin) + " overlap"
                              : "rows " + std::to_string(next) + ".." + std::to_string(begin) + " are missing"));
    next = end;
  }
  require(next == n, "matmul",
          "weight chunks cover rows 0.." + std::to_string(next) + " but the output has " + std::to_string(n));
}

}  // namespace

MatmulKernel matmul_kernel_for(const KernelPlan& plan, std::uint32_t m, std::uint32_t k) {
  if (k % 32 != 0) return MatmulKernel::simple;
  return m <= plan.matvec_max_rows ? plan.matvec : plan.prefill;
}

std::vector<MatmulKernel> matmul_kernels(const Context& ctx, std::uint32_t k) {
  std::vector<MatmulKernel> out;
  if (k % 32 == 0) {
    out.push_back(MatmulKernel::matvec);
    if (matvec_lanes_supported(ctx.caps())) out.push_back(MatmulKernel::matvec_lanes);
    if (ctx.plan().elementwise_workgroup >= 128) out.push_back(MatmulKernel::tiled);
  }
  out.push_back(MatmulKernel::simple);
  return out;
}

namespace {

// matmul, or with `up` (chunked like w) the fused up projection and GeGLU of matvec.comp.
// x is Q8_1 blocks (q8_1_bytes) for matvec_int_dot, else f32.
void record(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> w,
            std::span<const TableChunk> up, const BufferRange& x, const BufferRange& y, std::uint32_t m,
            std::uint32_t k, std::uint32_t n, MatmulKernel variant) {
  constexpr const char* op = "matmul";
  const bool geglu = !up.empty(), int_dot = variant == MatmulKernel::matvec_int_dot;
  const DTypeInfo& info = dtype_info(type);
  const std::string shape = "x [" + std::to_string(m) + ", " + std::to_string(k) + "] f32, W [" + std::to_string(n) +
                            ", " + std::to_string(k) + "] " + std::string(info.name);
  require(m > 0 && k > 0 && n > 0, op, "empty shape: " + shape);
  require(k % info.block_size == 0, op,
          shape + ": k = " + std::to_string(k) + " is not a multiple of the " + std::string(info.name) + " block (" +
              std::to_string(info.block_size) + ")");
  require_cover(w, n);
  const auto dims = [](std::uint32_t a, std::uint32_t b) {
    return "[" + std::to_string(a) + ", " + std::to_string(b) + "] f32";
  };
  const std::uint64_t x_bytes = int_dot ? q8_1_bytes(m, k) : 4ull * m * k;
  require_bytes(op, int_dot ? "x [" + std::to_string(m) + ", " + std::to_string(k) + "] Q8_1" : "x " + dims(m, k), x,
                x_bytes);
  require_bytes(op, "y " + dims(m, n), y, 4ull * m * n);
  const std::uint64_t row_bytes = dtype_bytes(type, k);
  // The kernel reads 32-bit words, so each chunk is bound rounded up to 4 bytes: its buffer must
  // hold that padding (weight buffers are allocated padded).
  const auto padded = [&](const TableChunk& c) { return (row_bytes * c.row_count + 3) / 4 * 4; };
  for (const TableChunk& c : up)
    require_bytes(op, "up weight chunk at row " + std::to_string(c.row_begin), c.range, padded(c));
  for (const TableChunk& c : w) {
    const std::string what = "weight chunk at row " + std::to_string(c.row_begin) + " (" +
                             std::to_string(c.row_count) + " rows of " + std::to_string(row_bytes) + " bytes)";
    require_bytes(op, what, c.range, row_bytes * c.row_count);
    require_bytes(op, what + "'s buffer (padded to 4 bytes)", {c.range.buffer, c.range.offset, 0}, padded(c));
  }

  const KernelPlan& plan = ctx.plan();
  const BufferRange xb{x.buffer, x.offset, x_bytes}, yb{y.buffer, y.offset, 4ull * m * n};
  // Per weight chunk: groups of `rows` weight rows over x (folded over z), tiles of `tile_m`
  // activation rows over y (in dispatches of at most max_groups_x tiles).
  const auto dispatch_all = [&](const Pipeline& p, std::uint32_t rows, std::uint32_t tile_m) {
    const std::uint32_t tiles = (m + tile_m - 1) / tile_m;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const TableChunk& c = w[i];
      const RowGrid g = row_grid(plan, (c.row_count + rows - 1) / rows);
      const BufferRange bindings[] = {{c.range.buffer, c.range.offset, padded(c)},
                                      xb,
                                      yb,
                                      geglu ? BufferRange{up[i].range.buffer, up[i].range.offset, padded(c)} : xb};
      for (std::uint32_t base = 0; base < tiles; base += plan.max_groups_x) {
        const std::uint32_t gy = std::min(tiles - base, plan.max_groups_x);
        const shader::MatmulParams params{k, m, n, c.row_begin, c.row_count, static_cast<std::uint32_t>(row_bytes), base};
        cmd.dispatch(p, std::span(bindings).first(geglu ? 4 : 3), params, g.x, gy, g.y);
      }
    }
  };
  if (variant == MatmulKernel::automatic) variant = matmul_kernel_for(plan, m, k);
  require(variant == MatmulKernel::simple || k % 32 == 0, op,
          shape + ": the " + std::string(matmul_kernel_name(variant)) + " kernel needs k to be a multiple of 32");
  switch (variant) {
    case MatmulKernel::matvec_int_dot:
      require(ctx.caps().integer_dot_product, op,
              "the integer-dot kernel needs VK_KHR_shader_integer_dot_product, which " + ctx.caps().name + " lacks");
      variant = plan.matvec == MatmulKernel::matvec_lanes ? MatmulKernel::matvec_lanes : MatmulKernel::matvec;
      [[fallthrough]];
    case MatmulKernel::matvec:
    case MatmulKernel::matvec_lanes: {
      require(variant == MatmulKernel::matvec || matvec_lanes_supported(ctx.caps()), op,
              "the matvec_lanes kernel needs subgroup ballot and subgroups of 8 or more; " + ctx.caps().name +
                  " has " + (ctx.caps().subgroup_ballot ? "" : "no ballot and ") + "subgroups of " +
                  std::to_string(ctx.caps().subgroup_size));
      // T invocations per weight row, WG / T rows per workgroup, NCOLS activation rows per tile
      // (all of m up to 16: the kernel unrolls over NCOLS).
      const std::uint32_t wg = std::min(plan.reduce_workgroup, kMatvecMaxWorkgroup);
      const std::uint32_t t = variant == MatmulKernel::matvec_lanes
                                  ? 1
                                  : std::clamp(std::bit_ceil(k / 32) * 8, 8u, std::min(wg, 32u));  // 8 per chunk
      const std::uint32_t ncols = std::min(kMatvecMaxCols, m);
      const KernelId kernel = int_dot ? matvec_q8_1_kernel(type) : matvec_kernel(type, geglu);
      dispatch_all(ctx.pipeline({kernel, geglu ? 4u : 3u, sizeof(shader::MatmulParams), {wg, t, ncols}}), wg / t,
                   ncols);
      return;
    }
    case MatmulKernel::tiled: {
      require(!geglu, op, "the fused GeGLU needs a matvec kernel");
      // 64 weight rows x BM activation rows per workgroup: WG 256 (BM 32) where the device allows.
      const std::uint32_t wg = plan.elementwise_workgroup >= 256 ? 256 : 128;
      require(plan.elementwise_workgroup >= 128, op,
              "the tiled kernel needs workgroups of 128 invocations; the plan allows " +
                  std::to_string(plan.elementwise_workgroup));
      dispatch_all(ctx.pipeline({tiled_kernel(type), 3, sizeof(shader::MatmulParams), {wg}}), kTiledRows, wg / 8);
      return;
    }
    case MatmulKernel::simple:
    case MatmulKernel::automatic: break;
  }
  require(!geglu, op, "the fused GeGLU needs a matvec kernel");
  require(plan.reduce_workgroup >= kMatmulTileM && plan.reduce_workgroup <= 256, op,
          "the plan's reduce workgroup (" + std::to_string(plan.reduce_workgroup) + ") is outside " +
              std::to_string(kMatmulTileM) + "..256");
  const Pipeline& p = ctx.pipeline(
      {matmul_kernel(type, plan.subgroup_reduce), 3, sizeof(shader::MatmulParams), {plan.reduce_workgroup}});
  dispatch_all(p, 1, kMatmulTileM);
}

}  // namespace

void matmul(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> w, const BufferRange& x,
            const BufferRange& y, std::uint32_t m, std::uint32_t k, std::uint32_t n, MatmulKernel variant) {
  require(variant != MatmulKernel::matvec_int_dot, "matmul",
          "the integer-dot kernel takes Q8_1 activations: call quantize_q8_1 and matmul_q8_1");
  record(ctx, cmd, type, w, {}, x, y, m, k, n, variant);
}

std::uint64_t q8_1_bytes(std::uint32_t m, std::uint32_t k) { return 40ull * m * (k / 32); }

bool matmul_q8_1_supported(const DeviceCaps& caps, DType type) {
  return caps.integer_dot_product && type != DType::F32 && type != DType::F16 && type != DType::BF16;
}

void quantize_q8_1(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& xq, std::uint32_t m,
                   std::uint32_t k) {
  constexpr const char* op = "quantize_q8_1";
  require(m > 0 && k > 0 && k % 32 == 0, op,
          "x [" + std::to_string(m) + ", " + std::to_string(k) + "]: k must be a positive multiple of 32");
  require_bytes(op, "x", x, 4ull * m * k);
  require_bytes(op, "xq", xq, q8_1_bytes(m, k));
  const std::uint32_t blocks = m * (k / 32), wg = ctx.plan().elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({KernelId::quantize_q8_1, 2, sizeof(shader::ElementwiseParams), {wg}});
  const BufferRange bindings[] = {{x.buffer, x.offset, 4ull * m * k}, {xq.buffer, xq.offset, q8_1_bytes(m, k)}};
  cmd.dispatch(p, bindings, shader::ElementwiseParams{blocks, blocks, 1.0f, 0}, groups_1d(ctx.plan(), blocks, wg));
}

void matmul_q8_1(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> w, const BufferRange& xq,
                 const BufferRange& y, std::uint32_t m, std::uint32_t k, std::uint32_t n) {
  require(type != DType::F32 && type != DType::F16 && type != DType::BF16, "matmul",
          "the integer-dot kernel needs a quantized weight, not " + std::string(dtype_name(type)));
  record(ctx, cmd, type, w, {}, xq, y, m, k, n, MatmulKernel::matvec_int_dot);
}

bool geglu_fusable(DType gate_type, std::span<const TableChunk> gate, DType up_type, std::span<const TableChunk> up) {
  if (gate_type != up_type || gate.size() != up.size()) return false;
  for (std::size_t i = 0; i < gate.size(); ++i)
    if (gate[i].row_begin != up[i].row_begin || gate[i].row_count != up[i].row_count) return false;
  return true;
}

void matmul_geglu(Context& ctx, CommandList& cmd, DType gate_type, std::span<const TableChunk> gate, DType up_type,
                  std::span<const TableChunk> up, const BufferRange& x, const BufferRange& y,
                  const BufferRange& up_scratch, std::uint32_t m, std::uint32_t k, std::uint32_t n,
                  MatmulKernel variant) {
  if (variant == MatmulKernel::automatic) variant = matmul_kernel_for(ctx.plan(), m, k);
  const bool fused_kernel = variant == MatmulKernel::matvec || variant == MatmulKernel::matvec_lanes;
  if (fused_kernel && geglu_fusable(gate_type, gate, up_type, up)) {
    record(ctx, cmd, gate_type, gate, up, x, y, m, k, n, variant);
    return;
  }
  cmd.begin_concurrent();  // independent: one input, two outputs
  record(ctx, cmd, gate_type, gate, {}, x, y, m, k, n, variant);
  record(ctx, cmd, up_type, up, {}, x, up_scratch, m, k, n, variant);
  cmd.end_concurrent();
  geglu(ctx, cmd, y, up_scratch, y, m, n);
}

}  // namespace tessera::ops
