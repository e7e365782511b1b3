// Buffers and transfers: creation limits, mapping, upload/download round trips through small
// staging chunks (sizes not multiples of the chunk), and ChunkedBuffer splitting by rows.
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "engine/buffer.h"
#include "engine/chunked_buffer.h"
#include "engine/device.h"
#include "engine/transfer.h"
#include "tests/common/gpu_test.h"

namespace tessera {
namespace {

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> v(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::byte>(x >> 24);
  }
  return v;
}

TEST(RowChunks, SplitsWholeRowsUnderTheLimit) {
  const auto c = plan_row_chunks(10, 100, 350);  // 3 rows per chunk
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].rows, 3u);
  EXPECT_EQ(c[0].bytes, 300u);
  EXPECT_EQ(c[3].first_row, 9u);
  EXPECT_EQ(c[3].rows, 1u);
  std::uint64_t rows = 0;
  for (const auto& k : c) rows += k.rows;
  EXPECT_EQ(rows, 10u);
}

TEST(RowChunks, AlignmentAndErrors) {
  const auto c = plan_row_chunks(100, 16, 16 * 50, 32);  // 50 rows fit, aligned down to 32
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].rows, 32u);
  EXPECT_EQ(c[3].rows, 4u);
  EXPECT_EQ(plan_row_chunks(5, 8, 1 << 20).size(), 1u);
  EXPECT_THROW(plan_row_chunks(4, 1000, 999), Error);  // a row larger than the limit
  EXPECT_THROW(plan_row_chunks(0, 8, 64), Error);
}

TEST(RowChunks, DeviceLimitIsTheSmallest) {
  DeviceCaps c;
  c.max_storage_buffer_range = 128ull << 20;
  c.max_memory_allocation = 2ull << 30;
  EXPECT_EQ(max_chunk_bytes(c), 128ull << 20);
  c.max_buffer_size = 64ull << 20;
  EXPECT_EQ(max_chunk_bytes(c), 64ull << 20);
}

class BufferTest : public GpuTest {};

TEST_F(BufferTest, CreateMapAndLimits) {
  Buffer up = Buffer::create(ctx().device(), 1000, MemoryKind::Upload, "up");
  EXPECT_TRUE(up.host_visible());
  EXPECT_EQ(up.size(), 1000u);
  EXPECT_EQ(up.mapped().size(), 1000u);
  up.flush(10, 20);
  Buffer rb = Buffer::create(ctx().device(), 12, MemoryKind::Readback, "rb");
  rb.invalidate();
  Buffer moved = std::move(up);
  EXPECT_FALSE(up);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(moved);
  EXPECT_THROW(Buffer::create(ctx().device(), 0, MemoryKind::Device, "empty"), Error);
  try {
    Buffer::create(ctx().device(), ctx().caps().max_memory_allocation + 1, MemoryKind::Device, "huge");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("maxMemoryAllocationSize"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("huge"), std::string::npos) << e.what();
  }
}

TEST_F(BufferTest, RoundTripThroughSmallStagingChunks) {
  for (const std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{4095}, std::size_t{10001}}) {
    SCOPED_TRACE(n);
    const auto src = pattern(n, static_cast<std::uint32_t>(n));
    Buffer dev = Buffer::create(ctx().device(), n + 64, MemoryKind::Device, "roundtrip");
    upload(ctx(), src, dev.range(32), 1000, Staging::Always);  // 1000-byte chunks, double-buffered
    std::vector<std::byte> back(n);
    download(ctx(), dev.range(32, n), back, 768, Staging::Always);
    EXPECT_EQ(std::memcmp(back.data(), src.data(), n), 0);
    std::vector<std::byte> back2(n);  // the direct path (mapped on UMA devices) agrees
    download(ctx(), dev.range(32, n), back2);
    EXPECT_EQ(back2, back);
  }
}

TEST_F(BufferTest, UploaderManyTensors) {
  std::vector<Buffer> bufs;
  std::vector<std::vector<std::byte>> data;
  {
    Uploader up(ctx(), 256, Staging::Always);
    for (std::uint32_t i = 0; i < 5; ++i) {
      data.push_back(pattern(300 + i * 77, i));
      bufs.push_back(Buffer::create(ctx().device(), data.back().size(), MemoryKind::Device, "t"));
      up.upload(data.back(), bufs.back().range());
    }
    up.finish();
    EXPECT_EQ(up.bytes_uploaded(), 300u * 5 + 77u * 10);
  }
  for (std::size_t i = 0; i < bufs.size(); ++i) {
    std::vector<std::byte> back(data[i].size());
    download(ctx(), bufs[i].range(), back, kDefaultStagingBytes, Staging::Always);
    EXPECT_EQ(back, data[i]) << "tensor " << i;
  }
}

TEST_F(BufferTest, TransferRangeErrors) {
  Buffer dev = Buffer::create(ctx().device(), 64, MemoryKind::Device, "small");
  const auto src = pattern(65, 1);
  EXPECT_THROW(upload(ctx(), src, dev.range()), Error);
  std::vector<std::byte> out(65);
  EXPECT_THROW(download(ctx(), dev.range(), out), Error);
}

TEST_F(BufferTest, ChunkedBufferWithFakeLimit) {
  const std::uint64_t rows = 37, row_bytes = 24;  // 888 bytes
  ChunkedBuffer cb = ChunkedBuffer::create(ctx().device(), rows, row_bytes, MemoryKind::Device, "w", 100);
  EXPECT_EQ(cb.chunk_count(), 10u);  // 4 rows (96 bytes) per chunk
  for (std::size_t i = 0; i < cb.chunk_count(); ++i) {
    EXPECT_LE(cb.buffer(i).size(), 100u);
    EXPECT_EQ(cb.buffer(i).size() % row_bytes, 0u);
  }
  EXPECT_EQ(cb.chunk_of_row(0), 0u);
  EXPECT_EQ(cb.chunk_of_row(4), 1u);
  EXPECT_EQ(cb.chunk_of_row(36), 9u);
  EXPECT_THROW(cb.chunk_of_row(37), Error);
  const auto src = pattern(rows * row_bytes, 7);
  cb.upload(ctx(), src, Staging::Always);
  std::vector<std::byte> back(src.size());
  cb.download(ctx(), back, Staging::Always);
  EXPECT_EQ(back, src);
  // Chunk 2 holds rows 8..11.
  std::vector<std::byte> c2(cb.chunk(2).bytes);
  download(ctx(), cb.range(2), c2);
  EXPECT_EQ(std::memcmp(c2.data(), src.data() + 8 * row_bytes, c2.size()), 0);
}

TEST_F(BufferTest, ChunkedBufferDeviceLimitSingleChunk) {
  ChunkedBuffer cb = ChunkedBuffer::create(ctx().device(), 16, 64, MemoryKind::Device, "one");
  EXPECT_EQ(cb.chunk_count(), 1u);
  EXPECT_EQ(cb.size(), 1024u);
}

}  // namespace
}  // namespace tessera
