// rms_norm.comp (both reduction variants through the profiles) and geglu.comp against the CPU reference.
#include "engine/ops/geglu.h"
#include "engine/ops/rms_norm.h"
#include "tests/ops/ops_test.h"
#include "tests/ops/reference.h"

namespace tessera::test {
namespace {

using NormTest = OpsTest;

TEST_P(NormTest, RmsNormWithAndWithoutWeightOverEdgeShapes) {
  struct Case {
    std::uint32_t rows, n;
  };
  for (const Case c : {Case{1, 1}, Case{3, 31}, Case{2, 33}, Case{17, 127}, Case{4, 256}, Case{1, 3840},
                       Case{5 * 16, 256}, Case{3, 512}, Case{1, 15360}}) {
    const auto x = random_floats(std::size_t{c.rows} * c.n, 10 + c.n, -3.0f, 3.0f);
    const auto w = random_floats(c.n, 20 + c.n, 0.5f, 1.5f);
    Buffer bx = upload_vec(x), bw = upload_vec(w), by1 = make(4ull * x.size()), by2 = make(4ull * x.size());
    run([&](Context& ctx, CommandList& cmd) {
      ops::rms_norm(ctx, cmd, {&bx}, BufferRange{&bw}, {&by1}, c.rows, c.n, 1e-6f);
      ops::rms_norm(ctx, cmd, {&bx}, std::nullopt, {&by2}, c.rows, c.n, 1e-6f);
    });
    const std::string what = "[" + std::to_string(c.rows) + ", " + std::to_string(c.n) + "]";
    EXPECT_TRUE(all_close(download_f32(by1, x.size()), ref::rms_norm(x, &w, c.rows, c.n, 1e-6f), kNorm, "weighted " + what));
    EXPECT_TRUE(all_close(download_f32(by2, x.size()), ref::rms_norm(x, nullptr, c.rows, c.n, 1e-6f), kNorm, "plain " + what));
  }
}

TEST_P(NormTest, RmsNormInPlaceOfZerosUsesEps) {
  std::vector<float> x(64, 0.0f);
  x[5] = 1e-4f;
  Buffer bx = upload_vec(x);
  run([&](Context& ctx, CommandList& cmd) { ops::rms_norm(ctx, cmd, {&bx}, std::nullopt, {&bx}, 1, 64, 1e-6f); });
  EXPECT_TRUE(all_close(download_f32(bx, 64), ref::rms_norm(x, nullptr, 1, 64, 1e-6f), kNorm, "near-zero row"));
}

TEST_P(NormTest, GegluContiguousAndStridedHalves) {
  struct Case {
    std::uint32_t rows, n;
  };
  for (const Case c : {Case{1, 1}, Case{5, 31}, Case{3, 257}, Case{1, 15360}}) {
    const std::size_t total = std::size_t{c.rows} * c.n;
    const auto gate = random_floats(total, 30 + c.n, -6.0f, 6.0f), up = random_floats(total, 40 + c.n);
    // Fused layout: row r = [gate_r | up_r], stride 2n.
    std::vector<float> fused(2 * total);
    for (std::uint32_t r = 0; r < c.rows; ++r)
      for (std::uint32_t i = 0; i < c.n; ++i) {
        fused[r * 2 * c.n + i] = gate[r * c.n + i];
        fused[r * 2 * c.n + c.n + i] = up[r * c.n + i];
      }
    Buffer bg = upload_vec(gate), bu = upload_vec(up), bf = upload_vec(fused), bo1 = make(4 * total), bo2 = make(4 * total);
    run([&](Context& ctx, CommandList& cmd) {
      ops::geglu(ctx, cmd, {&bg}, {&bu}, {&bo1}, c.rows, c.n);
      ops::geglu_fused(ctx, cmd, {&bf}, {&bo2}, c.rows, c.n);
    });
    std::vector<float> want(total);
    for (std::size_t i = 0; i < total; ++i) want[i] = ref::gelu_tanh(gate[i]) * up[i];
    const std::string what = "[" + std::to_string(c.rows) + ", " + std::to_string(c.n) + "]";
    EXPECT_TRUE(all_close(download_f32(bo1, total), want, kTranscendental, "geglu " + what));
    EXPECT_TRUE(all_close(download_f32(bo2, total), want, kTranscendental, "fused geglu " + what));
  }
}

TESSERA_INSTANTIATE_PROFILES(NormTest);

}  // namespace
}  // namespace tessera::test

namespace tessera::test {
namespace {

// More rows than one grid dimension holds (65535): rows continue in the second dimension.
TEST(NormGrid, RmsNormRowsBeyondOneGridDimension) {
  EngineOptions opts = EngineOptions::from_env();
  std::unique_ptr<Context> ctx;
  try {
    ctx = Context::create(opts);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no Vulkan device: " << e.what();
  }
  constexpr std::uint32_t rows = 70001, n = 2;
  const auto x = OpsTest::random_floats(std::size_t{rows} * n, 77);
  Buffer bx = Buffer::create(ctx->device(), 4ull * x.size(), MemoryKind::Device);
  Buffer by = Buffer::create(ctx->device(), 4ull * x.size(), MemoryKind::Device);
  upload(*ctx, std::as_bytes(std::span(x)), bx.range());
  CommandList cmd(*ctx);
  cmd.begin();
  ops::rms_norm(*ctx, cmd, bx.range(), std::nullopt, by.range(), rows, n, 1e-6f);
  cmd.submit_and_wait();
  std::vector<float> got(x.size());
  download(*ctx, by.range(), std::as_writable_bytes(std::span(got)));
  EXPECT_TRUE(all_close(got, ref::rms_norm(x, nullptr, rows, n, 1e-6f), kNorm, "70001 rows"));
  EXPECT_TRUE(validation_clean(*ctx));
}

}  // namespace
}  // namespace tessera::test
