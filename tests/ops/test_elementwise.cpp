// elementwise.comp (add / mul / scale) and softcap.comp against the CPU reference.
#include "engine/ops/elementwise.h"
#include "engine/ops/softcap.h"
#include "tests/ops/ops_test.h"
#include "tests/ops/reference.h"

namespace tessera::test {
namespace {

using ElementwiseTest = OpsTest;

TEST_P(ElementwiseTest, AddMulScaleWithBroadcastOverEdgeSizes) {
  struct Case {
    std::uint32_t n, b_n;
  };
  for (const Case c : {Case{1, 1}, Case{255, 255}, Case{256, 256}, Case{257, 257}, Case{100003, 100003},
                       Case{3840 * 3, 3840}, Case{62, 31}}) {
    const auto a = random_floats(c.n, 1), b = random_floats(c.b_n, 2);
    Buffer ba = upload_vec(a), bb = upload_vec(b), bo1 = make(4ull * c.n), bo2 = make(4ull * c.n), bo3 = make(4ull * c.n);
    run([&](Context& ctx, CommandList& cmd) {
      ops::add(ctx, cmd, {&ba}, {&bb}, {&bo1}, c.n, c.b_n);
      ops::mul(ctx, cmd, {&ba}, {&bb}, {&bo2}, c.n, c.b_n);
      ops::scale(ctx, cmd, {&ba}, {&bo3}, c.n, 0.0625f);
    });
    std::vector<float> add(c.n), mul(c.n), scl(c.n);
    for (std::uint32_t i = 0; i < c.n; ++i) {
      add[i] = a[i] + b[i % c.b_n];
      mul[i] = a[i] * b[i % c.b_n];
      scl[i] = a[i] * 0.0625f;
    }
    const std::string what = "n=" + std::to_string(c.n) + " b_n=" + std::to_string(c.b_n);
    EXPECT_TRUE(all_close(download_f32(bo1, c.n), add, kExact, "add " + what));
    EXPECT_TRUE(all_close(download_f32(bo2, c.n), mul, kExact, "mul " + what));
    EXPECT_TRUE(all_close(download_f32(bo3, c.n), scl, kExact, "scale " + what));
  }
}

TEST_P(ElementwiseTest, ScaleInPlaceAndBadShapes) {
  auto x = random_floats(1000, 3);
  Buffer bx = upload_vec(x);
  run([&](Context& ctx, CommandList& cmd) { ops::scale(ctx, cmd, {&bx}, {&bx}, 1000, -3.0f); });
  for (float& v : x) v *= -3.0f;
  EXPECT_TRUE(all_close(download_f32(bx, 1000), x, kExact, "in-place scale"));
  cmd_->begin();
  EXPECT_THROW(ops::add(*ctx_, *cmd_, {&bx}, {&bx}, {&bx}, 1000, 3), Error);   // 3 does not divide 1000
  EXPECT_THROW(ops::add(*ctx_, *cmd_, {&bx}, {&bx}, {&bx}, 1001, 0), Error);   // past the buffer
  cmd_->submit_and_wait();
}

TEST_P(ElementwiseTest, SoftcapMatchesReferenceIncludingHugeLogits) {
  for (const std::uint32_t n : {1u, 257u, 262144u}) {
    auto x = random_floats(n, 4, -80.0f, 80.0f);
    x[0] = 1e30f;
    if (n > 1) x[1] = -1e30f;
    Buffer bx = upload_vec(x), by = make(4ull * n);
    run([&](Context& ctx, CommandList& cmd) { ops::softcap(ctx, cmd, {&bx}, {&by}, n, 30.0f); });
    std::vector<float> want(n);
    for (std::uint32_t i = 0; i < n; ++i) want[i] = ref::softcap(x[i], 30.0f);
    EXPECT_TRUE(all_close(download_f32(by, n), want, kTranscendental, "softcap n=" + std::to_string(n)));
  }
}

TESSERA_INSTANTIATE_PROFILES(ElementwiseTest);

}  // namespace
}  // namespace tessera::test
