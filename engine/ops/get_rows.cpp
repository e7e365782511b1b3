#include "engine/ops/get_rows.h"

#include "engine/ops/op_common.h"
#include "shaders/params.h"

namespace tessera::ops {
namespace {

KernelId get_rows_kernel(DType t) {
  switch (t) {
    case DType::F32: return KernelId::get_rows_f32;
    case DType::F16: return KernelId::get_rows_f16;
    case DType::BF16: return KernelId::get_rows_bf16;
    case DType::Q4_0: return KernelId::get_rows_q4_0;
    case DType::Q4_1: return KernelId::get_rows_q4_1;
    case DType::Q5_0: return KernelId::get_rows_q5_0;
    case DType::Q8_0: return KernelId::get_rows_q8_0;
    case DType::Q4_K: return KernelId::get_rows_q4_k;
    case DType::Q5_K: return KernelId::get_rows_q5_k;
    case DType::Q6_K: return KernelId::get_rows_q6_k;
  }
  throw Error("[get_rows] unsupported type id " + std::to_string(static_cast<std::uint32_t>(t)));
}

}  // namespace

void get_rows(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> table, const BufferRange& ids,
              const BufferRange& out, std::uint32_t m, std::uint32_t n, float scale) {
  constexpr const char* op = "get_rows";
  const DTypeInfo& info = dtype_info(type);
  require(m > 0 && n > 0, op, "empty shape: " + std::to_string(m) + " ids of " + std::to_string(n) + " elements");
  require(n % info.block_size == 0, op,
          "row length " + std::to_string(n) + " is not a multiple of the " + std::string(info.name) + " block (" +
              std::to_string(info.block_size) + ")");
  require(!table.empty(), op, "table has no chunks");
  require_bytes(op, "ids", ids, 4ull * m);
  require_bytes(op, "out", out, 4ull * m * n);
  const std::uint64_t row_bytes = dtype_bytes(type, n);
  // The kernel reads 32-bit words, so each chunk's range is bound rounded up to 4 bytes: the
  // buffer must hold that padding (weight buffers are allocated padded).
  const auto padded = [&](const TableChunk& c) { return (row_bytes * c.row_count + 3) / 4 * 4; };
  for (const TableChunk& c : table) {
    const std::string what = "table chunk at row " + std::to_string(c.row_begin);
    require_bytes(op, what, c.range, row_bytes * c.row_count);
    require_bytes(op, what + "'s buffer (padded to 4 bytes)", {c.range.buffer, c.range.offset, 0}, padded(c));
  }

  const KernelPlan& plan = ctx.plan();
  const std::uint32_t wg = plan.elementwise_workgroup;
  const Pipeline& p = ctx.pipeline({get_rows_kernel(type), 3, sizeof(shader::GetRowsParams), {wg}});
  // Grid: x covers a row (grid-stride), y/z the ids.
  const std::uint32_t gx = std::min<std::uint32_t>((n + wg - 1) / wg, 64);
  const std::uint32_t gy = std::min(m, plan.max_groups_x);
  const std::uint32_t gz = (m + gy - 1) / gy;
  for (const TableChunk& c : table) {
    const shader::GetRowsParams params{n, m, c.row_begin, c.row_count, static_cast<std::uint32_t>(row_bytes), scale};
    const BufferRange bindings[] = {{c.range.buffer, c.range.offset, padded(c)}, ids, out};
    cmd.dispatch(p, bindings, params, gx, gy, gz);
  }
}

}  // namespace tessera::ops
