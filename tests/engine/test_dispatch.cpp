// Dispatching the fill kernel: correctness over sizes, copies, fill_zero, timestamps, and the
// checks that throw before anything reaches the driver (push size, binding range, counts).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/commands.h"
#include "engine/transfer.h"
#include "shaders/params.h"
#include "tests/common/gpu_test.h"

namespace tessera {
namespace {

constexpr std::uint32_t kSentinel = 0xdeadbeefu;

class DispatchTest : public GpuTest {
 protected:
  void SetUp() override { set_up_with_workgroup("fill.comp", 256); }
  static const Pipeline& fill() {
    return ctx().pipeline({.kernel = KernelId::fill, .bindings = 1, .push_constant_bytes = sizeof(shader::FillParams)});
  }
  static std::uint32_t groups(std::uint32_t n) {
    return std::clamp<std::uint32_t>((n + 255) / 256, 1, ctx().caps().max_workgroup_count[0]);
  }
  static std::vector<std::uint32_t> read(const Buffer& b, std::size_t n) {
    std::vector<std::uint32_t> out(n);
    download(ctx(), b.range(0, n * 4), std::as_writable_bytes(std::span(out)));
    return out;
  }
};

TEST_F(DispatchTest, PipelineIsReflectedAndMemoized) {
  const Pipeline& p = fill();
  EXPECT_EQ(p.local_size[0], 256u);
  EXPECT_EQ(p.local_size[1], 1u);
  EXPECT_EQ(p.desc().bindings, 1u);
  EXPECT_EQ(&fill(), &p);
  EXPECT_GE(ctx().pipeline_count(), 1u);
}

TEST_F(DispatchTest, FillWritesExactlyN) {
  CommandList cl(ctx());
  for (const std::uint32_t n : {1u, 255u, 256u, 257u, 100000u}) {
    SCOPED_TRACE(n);
    const std::uint32_t pad = 67;
    Buffer buf = Buffer::create(ctx().device(), (n + pad) * 4ull, MemoryKind::Device, "fill-dst");
    std::vector<std::uint32_t> init(n + pad, kSentinel);
    upload(ctx(), std::as_bytes(std::span(init)), buf.range());
    const shader::FillParams params{n, 0x3f800000u + n};
    const BufferRange bind[] = {buf.range()};
    cl.begin();
    cl.dispatch(fill(), bind, params, groups(n));
    cl.submit_and_wait();
    const auto out = read(buf, n + pad);
    EXPECT_EQ(std::count(out.begin(), out.begin() + n, params.value_bits), static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(std::count(out.begin() + n, out.end(), kSentinel), static_cast<std::ptrdiff_t>(pad));
  }
}

TEST_F(DispatchTest, FewerGroupsThanElementsStillCoverAll) {
  // The kernel's grid-stride loop: 2 workgroups fill 5000 elements.
  Buffer buf = Buffer::create(ctx().device(), 5000 * 4, MemoryKind::Device, "stride");
  CommandList cl(ctx());
  cl.begin();
  cl.dispatch(fill(), {buf.range()}, shader::FillParams{5000, 7}, 2);
  cl.submit_and_wait();
  const auto out = read(buf, 5000);
  EXPECT_EQ(std::count(out.begin(), out.end(), 7u), 5000);
}

TEST_F(DispatchTest, BindingOffsetCopyAndFillZero) {
  const std::uint64_t align = std::max<std::uint64_t>(ctx().caps().min_storage_buffer_offset_alignment, 4);
  const std::uint32_t n = 1000;
  Buffer a = Buffer::create(ctx().device(), align + n * 4, MemoryKind::Device, "a");
  Buffer b = Buffer::create(ctx().device(), n * 4, MemoryKind::Device, "b");
  CommandList cl(ctx());
  cl.begin();
  cl.fill_zero(a.range());
  cl.dispatch(fill(), {a.range(align, n * 4)}, shader::FillParams{n, 42}, groups(n), 1, 1, "fill-offset");
  cl.copy(a.range(align, n * 4), b.range());
  cl.fill_zero(b.range(0, 16));
  cl.submit_and_wait();
  const auto out = read(b, n);
  EXPECT_EQ(std::count(out.begin(), out.begin() + 4, 0u), 4);
  EXPECT_EQ(std::count(out.begin() + 4, out.end(), 42u), static_cast<std::ptrdiff_t>(n - 4));
  std::vector<std::uint32_t> head(align / 4);
  download(ctx(), a.range(0, align), std::as_writable_bytes(std::span(head)));
  EXPECT_EQ(std::count(head.begin(), head.end(), 0u), static_cast<std::ptrdiff_t>(head.size()));
  EXPECT_THROW(cl.fill_zero(b.range(2, 8)), Error);  // not recording, and misaligned anyway
}

// A concurrent group records no barriers between its commands and one at its end, so the copy
// after it sees both fills; misuse is an error.
TEST_F(DispatchTest, ConcurrentGroupDefersItsBarrier) {
  const std::uint32_t n = 300;
  Buffer a = Buffer::create(ctx().device(), n * 4, MemoryKind::Device, "a");
  Buffer b = Buffer::create(ctx().device(), n * 4, MemoryKind::Device, "b");
  Buffer c = Buffer::create(ctx().device(), 2 * n * 4, MemoryKind::Device, "c");
  CommandList cl(ctx());
  cl.begin();
  cl.begin_concurrent();
  cl.dispatch(fill(), {a.range()}, shader::FillParams{n, 5}, groups(n));
  cl.dispatch(fill(), {b.range()}, shader::FillParams{n, 6}, groups(n));
  EXPECT_EQ(cl.barrier_count(), 0u);
  EXPECT_THROW(cl.begin_concurrent(), Error);
  EXPECT_THROW(cl.submit(), Error);
  cl.end_concurrent();
  EXPECT_EQ(cl.barrier_count(), 1u);
  EXPECT_THROW(cl.end_concurrent(), Error);
  cl.copy(a.range(), c.range(0, n * 4));
  cl.copy(b.range(), c.range(n * 4, n * 4));
  EXPECT_EQ(cl.barrier_count(), 3u);
  cl.submit_and_wait();
  const auto out = read(c, 2 * n);
  EXPECT_EQ(std::count(out.begin(), out.begin() + n, 5u), static_cast<std::ptrdiff_t>(n));
  EXPECT_EQ(std::count(out.begin() + n, out.end(), 6u), static_cast<std::ptrdiff_t>(n));
}

TEST_F(DispatchTest, TimestampsPerDispatch) {
  Buffer buf = Buffer::create(ctx().device(), 4096 * 4, MemoryKind::Device, "ts");
  CommandList cl(ctx());
  if (!cl.timestamps_enabled()) GTEST_SKIP() << "queue has no timestamps";
  for (int round = 0; round < 2; ++round) {  // reuse; the second round outgrows the first pool
    const int count = round == 0 ? 3 : 150;
    cl.begin();
    for (int i = 0; i < count; ++i) cl.dispatch(fill(), {buf.range()}, shader::FillParams{4096, 1}, 16, 1, 1, i == 0 ? "first" : "");
    cl.submit_and_wait();
    const auto t = cl.timings();
    ASSERT_EQ(t.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(t[0].label, "first");
    EXPECT_EQ(t[1].label, "fill");
    for (const auto& x : t) {
      EXPECT_GE(x.ms, 0.0);
      EXPECT_EQ(x.kernel, "fill");             // the variant, whatever the label
      EXPECT_EQ(x.bytes, buf.range().bytes());  // the one bound range
    }
  }
  Buffer other = Buffer::create(ctx().device(), 4096 * 4, MemoryKind::Device, "ts2");
  cl.begin();
  cl.copy(buf.range(), other.range());
  cl.submit_and_wait();
  ASSERT_EQ(cl.timings().size(), 1u);  // copies are timed too
  EXPECT_EQ(cl.timings()[0].label, "copy");
  EXPECT_EQ(cl.timings()[0].bytes, 2u * 4096 * 4);  // read + written
}

TEST_F(DispatchTest, PushConstantSizeMismatchThrows) {
  try {
    ctx().pipeline({.kernel = KernelId::fill, .bindings = 1, .push_constant_bytes = 4});
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("fill"), std::string::npos) << m;
    EXPECT_NE(m.find("4"), std::string::npos) << m;
    EXPECT_NE(m.find("8 bytes"), std::string::npos) << m;
  }
  Buffer buf = Buffer::create(ctx().device(), 64, MemoryKind::Device, "x");
  CommandList cl(ctx());
  cl.begin();
  const std::uint32_t four = 4;
  EXPECT_THROW(cl.dispatch(fill(), {buf.range()}, &four, 4, 1), Error);
  cl.submit_and_wait();
}

TEST_F(DispatchTest, BindingLargerThanMaxStorageBufferRangeThrows) {
  const std::uint64_t limit = ctx().caps().max_storage_buffer_range;
  if (limit + 4 > ctx().caps().max_memory_allocation) GTEST_SKIP() << "cannot allocate past the range limit";
  Buffer big = Buffer::create(ctx().device(), limit + 4, MemoryKind::Device, "big");
  CommandList cl(ctx());
  cl.begin();
  try {
    cl.dispatch(fill(), {big.range()}, shader::FillParams{1, 1}, 1, 1, 1, "too-big");
    FAIL() << "no throw";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("maxStorageBufferRange"), std::string::npos) << m;
    EXPECT_NE(m.find("too-big"), std::string::npos) << m;
    EXPECT_NE(m.find("binding 0"), std::string::npos) << m;
  }
  cl.dispatch(fill(), {big.range(0, limit)}, shader::FillParams{1, 1}, 1);  // exactly the limit is fine
  cl.submit_and_wait();
}

TEST_F(DispatchTest, OtherDispatchChecksThrow) {
  Buffer buf = Buffer::create(ctx().device(), 256, MemoryKind::Device, "chk");
  CommandList cl(ctx());
  EXPECT_THROW(cl.dispatch(fill(), {buf.range()}, shader::FillParams{1, 1}, 1), Error);  // before begin()
  cl.begin();
  EXPECT_THROW(cl.dispatch(fill(), {}, shader::FillParams{1, 1}, 1), Error);  // binding count
  const std::uint32_t too_many = ctx().caps().max_workgroup_count[0];
  if (too_many < 0xffffffffu) {
    EXPECT_THROW(cl.dispatch(fill(), {buf.range()}, shader::FillParams{1, 1}, too_many + 1), Error);
  }
  EXPECT_THROW(cl.dispatch(fill(), {buf.range(512)}, shader::FillParams{1, 1}, 1), Error);  // outside
  const std::uint64_t align = ctx().caps().min_storage_buffer_offset_alignment;
  if (align > 4) {
    EXPECT_THROW(cl.dispatch(fill(), {buf.range(4)}, shader::FillParams{1, 1}, 1), Error);
  }
  cl.dispatch(fill(), {buf.range()}, shader::FillParams{1, 1}, 0);  // zero groups: nothing recorded
  EXPECT_EQ(cl.dispatch_count(), 0u);
  cl.submit_and_wait();
  EXPECT_TRUE(cl.timings().empty());
}

}  // namespace
}  // namespace tessera
