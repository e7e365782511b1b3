// Row-wise splitting of big tensors across buffers (see chunked_buffer.h).
#include "engine/chunked_buffer.h"

#include <algorithm>

#include "engine/context.h"
#include "engine/device.h"
#include "engine/log.h"

namespace tessera {

std::vector<RowChunk> plan_row_chunks(std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t max_chunk_bytes,
                                      std::uint64_t row_align) {
  if (row_bytes == 0 || rows == 0) throw Error("[chunked] tensor of " + std::to_string(rows) + " rows of " +
                                               std::to_string(row_bytes) + " bytes is empty");
  row_align = std::max<std::uint64_t>(row_align, 1);
  const std::uint64_t fit = max_chunk_bytes / row_bytes / row_align * row_align;  // rows per chunk
  if (fit == 0)
    throw Error("[chunked] " + std::to_string(row_align) + " row(s) of " + format_bytes(row_bytes) +
                " exceed the chunk limit of " + format_bytes(max_chunk_bytes));
  std::vector<RowChunk> out;
  for (std::uint64_t r = 0; r < rows; r += fit) {
    const std::uint64_t n = std::min(fit, rows - r);
    out.push_back({r, n, n * row_bytes});
  }
  return out;
}

std::uint64_t max_chunk_bytes(const DeviceCaps& caps) {
  std::uint64_t m = caps.max_storage_buffer_range ? caps.max_storage_buffer_range : ~0ull;
  if (caps.max_memory_allocation) m = std::min(m, caps.max_memory_allocation);
  if (caps.max_buffer_size) m = std::min(m, caps.max_buffer_size);
  return m;
}

ChunkedBuffer ChunkedBuffer::create(Device& dev, std::uint64_t rows, std::uint64_t row_bytes, MemoryKind kind,
                                    std::string_view debug_name, std::uint64_t max_chunk, std::uint64_t row_align) {
  ChunkedBuffer cb;
  cb.rows_ = rows;
  cb.row_bytes_ = row_bytes;
  // Kernels read storage buffers in 32-bit words: each chunk's buffer is padded to a multiple
  // of 4 bytes, and planned so the padded size still fits the limit.
  const std::uint64_t limit = (max_chunk ? max_chunk : max_chunk_bytes(dev.caps())) / 4 * 4;
  cb.chunks_ = plan_row_chunks(rows, row_bytes, limit, row_align);
  cb.buffers_.reserve(cb.chunks_.size());
  for (std::size_t i = 0; i < cb.chunks_.size(); ++i) {
    const std::string name = cb.chunks_.size() == 1 ? std::string(debug_name)
                                                    : std::string(debug_name) + "[" + std::to_string(i) + "]";
    cb.buffers_.push_back(Buffer::create(dev, (cb.chunks_[i].bytes + 3) / 4 * 4, kind, name));
  }
  return cb;
}

std::size_t ChunkedBuffer::chunk_of_row(std::uint64_t row) const {
  auto it = std::upper_bound(chunks_.begin(), chunks_.end(), row,
                             [](std::uint64_t r, const RowChunk& c) { return r < c.first_row; });
  if (row >= rows_ || it == chunks_.begin()) throw Error("[chunked] row " + std::to_string(row) + " of " + std::to_string(rows_));
  return static_cast<std::size_t>(it - chunks_.begin() - 1);
}

void ChunkedBuffer::upload(Context& ctx, std::span<const std::byte> src, Staging staging) const {
  if (src.size() != size())
    throw Error("[chunked] upload of " + format_bytes(src.size()) + " into a tensor of " + format_bytes(size()));
  Uploader up(ctx, kDefaultStagingBytes, staging);
  for (std::size_t i = 0; i < chunks_.size(); ++i)
    up.upload(src.subspan(chunks_[i].first_row * row_bytes_, chunks_[i].bytes), range(i));
  up.finish();
}

void ChunkedBuffer::download(Context& ctx, std::span<std::byte> dst, Staging staging) const {
  if (dst.size() != size())
    throw Error("[chunked] download of a tensor of " + format_bytes(size()) + " into " + format_bytes(dst.size()));
  for (std::size_t i = 0; i < chunks_.size(); ++i)
    tessera::download(ctx, range(i), dst.subspan(chunks_[i].first_row * row_bytes_, chunks_[i].bytes),
                      kDefaultStagingBytes, staging);
}

}  // namespace tessera
