// Factory GGUF -> GPU: the token embedding streamed from the mmap in row chunks (a small chunk
// limit forces several bindings) and gathered by get_rows with the Gemma embedding scale,
// against the CPU dequantizer reading the same file.
#include <gtest/gtest.h>

#include <cmath>

#include "common/gpu_test.h"
#include "common/tools.h"
#include "engine/ops/get_rows.h"
#include "engine/transfer.h"
#include "runtime/model/gpu_tensor.h"
#include "runtime/quant/dequant.h"
#include "tools/factory/factory.h"
#include "tests/ops/tolerance.h"

namespace tessera {
namespace {

class GpuTensorTest : public GpuTest {};

void check_embedding(Context& ctx, const std::string& preset, const std::string& type) {
  const test::TempDir dir;
  factory::FactoryOptions opts;
  opts.preset = factory::preset_by_name(preset);
  opts.type = factory::parse_type_choice(type);
  opts.seed = 11;
  factory::write_model(opts, dir / "m.gguf");
  const gguf::File file = gguf::File::open(dir / "m.gguf");
  const gguf::TensorInfo& info = file.tensor("token_embd.weight");
  const auto n = static_cast<std::uint32_t>(info.ne[0]);
  const std::uint64_t row_bytes = info.n_bytes / info.rows();
  // At most 37 rows per chunk: the vocabulary spans many bindings.
  const GpuTensor emb = upload_tensor(ctx, file, info, 37 * row_bytes + 3);
  ASSERT_GT(emb.data.chunk_count(), 3u);

  const std::vector<std::uint32_t> ids = {0, 2, 36, 37, 38, 105, static_cast<std::uint32_t>(info.rows() - 1), 2};
  Buffer bids = Buffer::create(ctx.device(), 4 * ids.size(), MemoryKind::Device);
  upload(ctx, std::as_bytes(std::span(ids)), bids.range());
  Buffer out = Buffer::create(ctx.device(), 4ull * ids.size() * n, MemoryKind::Device);
  const float scale = std::sqrt(static_cast<float>(n));
  CommandList cmd(ctx);
  cmd.begin();
  const auto table = emb.table();
  ops::get_rows(ctx, cmd, info.type, table, bids.range(), out.range(), static_cast<std::uint32_t>(ids.size()), n, scale);
  cmd.submit_and_wait();
  std::vector<float> got(ids.size() * n), want(ids.size() * n), row(n);
  download(ctx, out.range(), std::as_writable_bytes(std::span(got)));
  for (std::size_t k = 0; k < ids.size(); ++k) {
    dequantize_row(info.type, file.data(info).data() + ids[k] * row_bytes, row.data(), n);
    for (std::uint32_t i = 0; i < n; ++i) want[k * n + i] = row[i] * scale;
  }
  EXPECT_TRUE(test::all_close(got, want, test::kDequant, preset + " " + type + " token_embd " +
                                                             std::string(dtype_name(info.type))));
}

TEST_F(GpuTensorTest, TinyF16EmbeddingAcrossChunks) { check_embedding(ctx(), "tiny", "F16"); }
TEST_F(GpuTensorTest, SmallQ4KMEmbeddingIsQ6KAcrossChunks) { check_embedding(ctx(), "small", "Q4_K_M"); }

}  // namespace
}  // namespace tessera
