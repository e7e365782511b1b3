// Embedding row gather with dequantization: the token-embedding lookup of every model.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "engine/dtype.h"

namespace tessera::ops {

// One bound piece of a row-major table: rows [row_begin, row_begin + row_count) of a tensor
// whose rows are `n` elements of `type`. Big tables (the 262144-row Gemma embedding) are split
// across several such chunks to stay within maxStorageBufferRange.
struct TableChunk {
  BufferRange range;
  std::uint32_t row_begin = 0;
  std::uint32_t row_count = 0;
};

// out[t, :] = dequant(table[ids[t], :]) * scale for t < m, dispatched once per chunk.
// ids: [m] u32; out: [m, n] f32; every id must be below the table's total row count.
void get_rows(Context& ctx, CommandList& cmd, DType type, std::span<const TableChunk> table, const BufferRange& ids,
              const BufferRange& out, std::uint32_t m, std::uint32_t n, float scale = 1.0f);

}  // namespace tessera::ops
