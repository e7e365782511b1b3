// get_rows.comp: embedding gather with dequantization, every weight type, against the CPU
// dequantizer (runtime/quant, itself tested against hand-computed blocks), including a table
// split into chunks as big tensors are.
#include "engine/ops/get_rows.h"
#include "runtime/quant/dequant.h"
#include "runtime/quant/quantize.h"
#include "tests/ops/ops_test.h"

namespace tessera::test {
namespace {

using GetRowsTest = OpsTest;

// Quantizes `rows` random rows of n elements of type t: the packed table bytes.
std::vector<std::byte> make_table(DType t, std::uint32_t rows, std::uint32_t n, std::uint32_t seed) {
  const auto x = OpsTest::random_floats(std::size_t{rows} * n, seed, -1.5f, 1.5f);
  const std::uint64_t row_bytes = dtype_bytes(t, n);
  std::vector<std::byte> out(rows * row_bytes);
  for (std::uint32_t r = 0; r < rows; ++r) quantize_row(t, x.data() + std::size_t{r} * n, out.data() + r * row_bytes, n);
  return out;
}

std::vector<float> reference(DType t, const std::vector<std::byte>& table, const std::vector<std::uint32_t>& ids,
                             std::uint32_t n, float scale) {
  const std::uint64_t row_bytes = dtype_bytes(t, n);
  std::vector<float> out(ids.size() * n), row(n);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    dequantize_row(t, table.data() + ids[k] * row_bytes, row.data(), n);
    for (std::uint32_t i = 0; i < n; ++i) out[k * n + i] = row[i] * scale;
  }
  return out;
}

TEST_P(GetRowsTest, EveryTypeWholeAndChunkedTable) {
  const std::vector<std::uint32_t> ids = {0, 6, 3, 3, 1};
  constexpr std::uint32_t kRows = 7;
  const float scale = 61.967734f;  // sqrt(3840), the Gemma embedding scale
  for (const DTypeInfo& info : kDTypes) {
    for (const std::uint32_t blocks : {1u, 3u, 15u}) {
      const std::uint32_t n = info.block_size == 1 ? blocks * 32 + 1 : blocks * info.block_size;  // odd n for plain types
      const auto table = make_table(info.type, kRows, n, 7 + blocks);
      const std::uint64_t row_bytes = dtype_bytes(info.type, n);
      Buffer bt = upload_vec(table), bids = upload_vec(ids);
      Buffer bo1 = make(4ull * ids.size() * n), bo2 = make(4ull * ids.size() * n);
      // The same table as two chunks, rows [0, 3) and [3, 7), in separate buffers.
      const std::vector<std::byte> lo(table.begin(), table.begin() + 3 * row_bytes);
      const std::vector<std::byte> hi(table.begin() + 3 * row_bytes, table.end());
      Buffer blo = upload_vec(lo), bhi = upload_vec(hi);
      const ops::TableChunk whole[] = {{{&bt}, 0, kRows}};
      const ops::TableChunk chunks[] = {{{&blo}, 0, 3}, {{&bhi}, 3, 4}};
      run([&](Context& ctx, CommandList& cmd) {
        ops::get_rows(ctx, cmd, info.type, whole, {&bids}, {&bo1}, static_cast<std::uint32_t>(ids.size()), n, scale);
        ops::get_rows(ctx, cmd, info.type, chunks, {&bids}, {&bo2}, static_cast<std::uint32_t>(ids.size()), n, scale);
      });
      const auto want = reference(info.type, table, ids, n, scale);
      const std::string what = std::string(info.name) + " n=" + std::to_string(n);
      EXPECT_TRUE(all_close(download_f32(bo1, want.size()), want, kDequant, what));
      EXPECT_TRUE(all_close(download_f32(bo2, want.size()), want, kDequant, what + " chunked"));
    }
  }
}

TEST_P(GetRowsTest, RejectsRowsNotMultipleOfBlock) {
  Buffer b = make(1024);
  const ops::TableChunk chunk[] = {{{&b}, 0, 1}};
  cmd_->begin();
  EXPECT_THROW(ops::get_rows(*ctx_, *cmd_, DType::Q4_K, chunk, {&b}, {&b}, 1, 100), Error);
  cmd_->submit_and_wait();
}

TESSERA_INSTANTIATE_PROFILES(GetRowsTest);

}  // namespace
}  // namespace tessera::test

namespace tessera::test {
namespace {

// More ids than one grid dimension holds (65535): ids continue in the third dimension.
TEST(GetRowsGrid, IdsBeyondOneGridDimension) {
  std::unique_ptr<Context> ctx;
  try {
    ctx = Context::create(EngineOptions::from_env());
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no Vulkan device: " << e.what();
  }
  constexpr std::uint32_t m = 70001, n = 32, rows = 7;
  const auto table = OpsTest::random_floats(std::size_t{rows} * n, 78);
  std::vector<std::uint32_t> ids(m);
  for (std::uint32_t t = 0; t < m; ++t) ids[t] = (t * 5 + 3) % rows;
  Buffer bt = Buffer::create(ctx->device(), 4ull * table.size(), MemoryKind::Device);
  Buffer bi = Buffer::create(ctx->device(), 4ull * m, MemoryKind::Device);
  Buffer bo = Buffer::create(ctx->device(), 4ull * m * n, MemoryKind::Device);
  upload(*ctx, std::as_bytes(std::span(table)), bt.range());
  upload(*ctx, std::as_bytes(std::span(ids)), bi.range());
  CommandList cmd(*ctx);
  cmd.begin();
  const ops::TableChunk chunk[] = {{bt.range(), 0, rows}};
  ops::get_rows(*ctx, cmd, DType::F32, chunk, bi.range(), bo.range(), m, n, 2.0f);
  cmd.submit_and_wait();
  std::vector<float> got(std::size_t{m} * n), want(got.size());
  download(*ctx, bo.range(), std::as_writable_bytes(std::span(got)));
  for (std::uint32_t t = 0; t < m; ++t)
    for (std::uint32_t i = 0; i < n; ++i) want[std::size_t{t} * n + i] = table[ids[t] * n + i] * 2.0f;
  EXPECT_TRUE(all_close(got, want, kExact, "70001 ids"));
  EXPECT_TRUE(validation_clean(*ctx));
}

}  // namespace
}  // namespace tessera::test
