// ChunkedBuffer: a tensor too big for one binding or one allocation, split by rows across
// several Buffers, each holding whole rows and at most min(maxStorageBufferRange,
// maxMemoryAllocationSize, maxBufferSize) bytes. A kernel then runs once per chunk.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/buffer.h"
#include "engine/caps.h"
#include "engine/transfer.h"

namespace tessera {

class Context;
class Device;

// Rows [first_row, first_row + rows) of the tensor, `bytes` = rows * row_bytes.
struct RowChunk {
  std::uint64_t first_row = 0;
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
};

// Splits `rows` rows of `row_bytes` into chunks of at most `max_chunk_bytes`, each a multiple of
// `row_align` rows (except the last). Pure. Throws Error when row_align rows do not fit.
std::vector<RowChunk> plan_row_chunks(std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t max_chunk_bytes,
                                      std::uint64_t row_align = 1);

// The largest buffer a single binding and allocation may take on this device (masked caps).
std::uint64_t max_chunk_bytes(const DeviceCaps& caps);

class ChunkedBuffer {
 public:
  // [rows, row_bytes] tensor. max_chunk = 0: max_chunk_bytes(dev.caps()); tests pass a small
  // fake limit. row_align: rows per chunk are a multiple of it (kernel tiles). Each chunk's
  // buffer is padded to whole 32-bit words (kernels read words), within the limit.
  static ChunkedBuffer create(Device& dev, std::uint64_t rows, std::uint64_t row_bytes, MemoryKind kind,
                              std::string_view debug_name = {}, std::uint64_t max_chunk = 0,
                              std::uint64_t row_align = 1);

  std::size_t chunk_count() const { return chunks_.size(); }
  const RowChunk& chunk(std::size_t i) const { return chunks_[i]; }
  const Buffer& buffer(std::size_t i) const { return buffers_[i]; }
  Buffer& buffer(std::size_t i) { return buffers_[i]; }
  BufferRange range(std::size_t i) const { return buffers_[i].range(0, chunks_[i].bytes); }
  std::size_t chunk_of_row(std::uint64_t row) const;  // chunk holding `row`

  std::uint64_t rows() const { return rows_; }
  std::uint64_t row_bytes() const { return row_bytes_; }
  std::uint64_t size() const { return rows_ * row_bytes_; }

  // Uploads the whole tensor (src.size() == size()) chunk by chunk / downloads it back.
  void upload(Context& ctx, std::span<const std::byte> src, Staging staging = Staging::Auto) const;
  void download(Context& ctx, std::span<std::byte> dst, Staging staging = Staging::Auto) const;

 private:
  std::uint64_t rows_ = 0, row_bytes_ = 0;
  std::vector<RowChunk> chunks_;
  std::vector<Buffer> buffers_;
};

}  // namespace tessera
