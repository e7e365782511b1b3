// ops::matmul: y = x · Wᵀ with W of every weight type dequantized in the kernel, against a double
// CPU reference over the same packed blocks: the plan's choice under every profile on shapes
// around the activation tiles (8, 16, 32 rows), weight tiles (64 rows) and the workgroup stride,
// then every kernel variant (matvec.comp in both layouts, matmul_tiled.comp, matmul.comp)
// forced on every type at edge shapes, weights split into chunks, one wide row, and the input
// checks.
#include "engine/ops/matmul.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "runtime/quant/quantize.h"
#include "tests/ops/ops_test.h"
#include "tests/ops/reference.h"

namespace tessera::test {
namespace {

constexpr DType kAllTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                               DType::Q5_0, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// n random rows of k elements quantized to type t: the packed weight bytes.
std::vector<std::byte> make_weight(DType t, std::uint32_t n, std::uint32_t k, std::uint32_t seed) {
  const auto w = OpsTest::random_floats(std::size_t{n} * k, seed, -1.5f, 1.5f);
  std::vector<std::byte> out(n * dtype_bytes(t, k));
  quantize_rows(t, w.data(), out.data(), n, k);
  return out;
}

// One matmul to record: its buffers, chunks and expected output.
struct Case {
  std::string name;
  DType type;
  std::uint32_t m, k, n;
  std::vector<Buffer> buffers;  // weight pieces, then x, then y (reserved: chunks point into it)
  std::vector<ops::TableChunk> chunks;
  std::vector<float> want;
};

class MatmulTest : public OpsTest {
 protected:
  // W as one chunk, or split at rows n/6 and n*3/5 into three chunks: the first in its own
  // buffer, the other two sharing one buffer (the third at an aligned offset), listed out of order.
  void add(DType type, std::uint32_t m, std::uint32_t k, std::uint32_t n, bool chunked, std::uint32_t seed) {
    Case c{std::string(dtype_name(type)) + " m=" + std::to_string(m) + " k=" + std::to_string(k) +
               " n=" + std::to_string(n) + (chunked ? " chunked" : ""),
           type, m, k, n, {}, {}, {}};
    c.buffers.reserve(4);
    const auto w = make_weight(type, n, k, seed);
    const auto x = random_floats(std::size_t{m} * k, seed + 1000);
    c.want = ref::matmul(type, w, x, m, k, n);
    const std::uint64_t rb = dtype_bytes(type, k);
    const auto rows = [&](std::uint32_t b, std::uint32_t e) {
      return std::vector<std::byte>(w.begin() + b * rb, w.begin() + e * rb);
    };
    if (!chunked) {
      c.buffers.push_back(upload_vec(w));
      c.chunks.push_back({{&c.buffers[0]}, 0, n});
    } else {
      const std::uint32_t a = n / 6, b = n * 3 / 5;
      const std::uint64_t align = std::max<std::uint64_t>(ctx_->caps().min_storage_buffer_offset_alignment, 4);
      const std::uint64_t off = ((b - a) * rb + align - 1) / align * align;  // third chunk's offset
      std::vector<std::byte> shared(off + (n - b) * rb);
      const auto mid = rows(a, b), last = rows(b, n);
      std::copy(mid.begin(), mid.end(), shared.begin());
      std::copy(last.begin(), last.end(), shared.begin() + static_cast<std::ptrdiff_t>(off));
      c.buffers.push_back(upload_vec(rows(0, a)));
      c.buffers.push_back(upload_vec(shared));
      c.chunks = {{{&c.buffers[1], off}, b, n - b},
                  {{&c.buffers[0]}, 0, a},
                  {{&c.buffers[1], 0, (b - a) * rb}, a, b - a}};
    }
    c.buffers.push_back(upload_vec(x));
    c.buffers.push_back(make(4ull * m * n));
    cases_.push_back(std::move(c));
  }

  // Records every added case in one submit with kernel `v`, then compares each with its reference.
  void run_and_check(MatmulKernel v = MatmulKernel::automatic) {
    run([&](Context& ctx, CommandList& cmd) {
      for (const Case& c : cases_)
        ops::matmul(ctx, cmd, c.type, c.chunks, {&c.buffers[c.buffers.size() - 2]}, {&c.buffers.back()}, c.m, c.k,
                    c.n, v);
    });
    for (const Case& c : cases_)
      EXPECT_TRUE(all_close(download_f32(c.buffers.back(), c.want.size()), c.want, reduction_tolerance(kMatmul, c.k),
                            c.name + " " + matmul_kernel_name(v)));
    cases_.clear();
  }

  // The plan's kernels: m around the tiles (1, 3, 9, 17, 33) x n (1, 7, 65) x k of one block, a
  // few blocks, and more than one workgroup stride (plain types: odd k), plus a chunked weight.
  void check_type(DType type) {
    const std::uint32_t b = dtype_info(type).block_size;
    const std::vector<std::uint32_t> ks = b == 1 ? std::vector<std::uint32_t>{1, 33, 520}
                                                 : std::vector<std::uint32_t>{b, 3 * b, b == 32 ? 17 * b : 2 * b};
    std::uint32_t seed = 1;
    for (const std::uint32_t k : ks)
      for (const std::uint32_t m : {1u, 3u, 9u, 17u, 33u})
        for (const std::uint32_t n : {1u, 7u, 65u}) add(type, m, k, n, false, seed++);
    add(type, 9, ks[1], 33, true, seed++);
    run_and_check();
  }

  // Each variant this device can run, forced, on every type at its edges: one row, odd n below one
  // weight tile; a 16-row tile plus one; two activation tiles over two weight tiles, chunked;
  // k of one 32-element chunk (plain types) or one block, and a few.
  void check_variants() {
    const std::vector<MatmulKernel> variants = ops::matmul_kernels(*ctx_, 32);
    EXPECT_GE(variants.size(), 2u) << "the simple fallback and the matvec kernel run everywhere";
    for (const MatmulKernel v : variants) {
      std::uint32_t seed = 500;
      for (const DType t : kAllTypes) {
        const std::uint32_t b = std::max<std::uint32_t>(dtype_info(t).block_size, 32);
        add(t, 1, b, 7, false, seed++);
        add(t, 17, 3 * b, 1, false, seed++);
        add(t, 33, b, 65, true, seed++);
      }
      run_and_check(v);
    }
  }

  std::vector<Case> cases_;  // moving a Case keeps its Buffers' addresses (the vector's storage moves)
};

// matmul_geglu: gelu_tanh(x · gate) * (x · up) on every type and variant (the matvec ones fused,
// the others through the unfused fallback), gate and up chunked alike (fusable) or not.
class MatmulGegluTest : public OpsTest {
 protected:
  // Gate and up as two chunks split at row n/3; up split at n/2 instead when !alike.
  void check(DType t, std::uint32_t m, std::uint32_t k, std::uint32_t n, bool alike, MatmulKernel v,
             std::uint32_t seed) {
    const std::string what = std::string(dtype_name(t)) + " m=" + std::to_string(m) + " k=" + std::to_string(k) +
                             " n=" + std::to_string(n) + (alike ? "" : " unlike chunks") + " " + matmul_kernel_name(v);
    const auto gw = make_weight(t, n, k, seed), uw = make_weight(t, n, k, seed + 1);
    const auto x = random_floats(std::size_t{m} * k, seed + 2);
    const std::vector<float> g = ref::matmul(t, gw, x, m, k, n), u = ref::matmul(t, uw, x, m, k, n);
    const std::uint64_t rb = dtype_bytes(t, k);
    const auto split = [&](const std::vector<std::byte>& w, std::uint32_t at, std::vector<Buffer>& keep) {
      keep.push_back(upload_vec(std::vector<std::byte>(w.begin(), w.begin() + at * rb)));
      keep.push_back(upload_vec(std::vector<std::byte>(w.begin() + at * rb, w.end())));
      return std::vector<ops::TableChunk>{{{&keep[keep.size() - 2]}, 0, at}, {{&keep.back()}, at, n - at}};
    };
    std::vector<Buffer> keep;
    keep.reserve(4);
    const auto gate = split(gw, std::max(1u, n / 3), keep);
    const auto up = split(uw, alike ? std::max(1u, n / 3) : std::max(1u, n / 2), keep);
    EXPECT_EQ(ops::geglu_fusable(t, gate, t, up), alike || std::max(1u, n / 3) == std::max(1u, n / 2)) << what;
    Buffer bx = upload_vec(x), by = make(4ull * m * n), scratch = make(4ull * m * n);
    run([&](Context& ctx, CommandList& cmd) {
      ops::matmul_geglu(ctx, cmd, t, gate, t, up, {&bx}, {&by}, {&scratch}, m, k, n, v);
    });
    const std::vector<float> got = download_f32(by, std::size_t{m} * n);
    // The dot products carry the matmul tolerance e; the result moves by at most
    // |gelu'(g)| * |u| * e + |gelu(g)| * e (|gelu'| < 1.13) plus the activation's own error.
    const Tolerance tol = reduction_tolerance(kMatmul, k);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double want = ref::gelu_tanh(g[i]) * u[i];
      const double eg = tol.atol + tol.rtol * std::fabs(g[i]), eu = tol.atol + tol.rtol * std::fabs(u[i]);
      const double lim = 1.13 * std::fabs(u[i]) * eg + std::fabs(ref::gelu_tanh(g[i])) * eu +
                         kTranscendental.atol + kTranscendental.rtol * std::fabs(want);
      if (!(std::fabs(got[i] - want) <= lim) && bad++ == 0)
        ADD_FAILURE() << what << ": [" << i << "] got " << got[i] << " want " << want << " (limit " << lim << ")";
    }
    EXPECT_EQ(bad, 0u) << what;
  }
};

TEST_P(MatmulGegluTest, EveryTypeAndVariant) {
  for (const MatmulKernel v : ops::matmul_kernels(*ctx_, 32)) {
    std::uint32_t seed = 900;
    for (const DType t : kAllTypes) {
      const std::uint32_t b = std::max<std::uint32_t>(dtype_info(t).block_size, 32);
      check(t, 1, b, 7, true, v, seed += 3);
      check(t, 17, 3 * b, 65, true, v, seed += 3);
      check(t, 3, b, 64, false, v, seed += 3);
    }
  }
}

// A feed-forward-sized gate/up (k 3840 -> n 15360 is the 12B's; here n 160) for one token and
// for a verify batch of 4.
TEST_P(MatmulGegluTest, GemmaWidthQ4_K) {
  check(DType::Q4_K, 1, 3840, 160, true, MatmulKernel::automatic, 11);
  check(DType::Q4_K, 4, 3840, 160, true, MatmulKernel::automatic, 12);
}

// The integer-dot path: quantize_q8_1 against the CPU rule (d = max|x| / 127, q = round(x / d),
// s = d * sum q; q within one step where the rounding of x / d may differ), then matmul_q8_1 on
// every quantized type against the double reference applied to the GPU's own dequantized
// activations q * d (so only the weights' dequantization and the sum order remain), on profiles
// that keep integer dot products; the others must refuse it with a clear error.
class MatmulQ8_1Test : public OpsTest {
 protected:
  void check(DType t, std::uint32_t m, std::uint32_t k, std::uint32_t n, std::uint32_t seed) {
    const std::string what = std::string(dtype_name(t)) + " m=" + std::to_string(m) + " k=" + std::to_string(k) +
                             " n=" + std::to_string(n);
    const auto w = make_weight(t, n, k, seed);
    auto x = random_floats(std::size_t{m} * k, seed + 1);
    for (std::size_t i = 0; i < 32 && i < x.size(); ++i) x[i] = 0.0f;  // an all-zero block: d = 0
    Buffer bw = upload_vec(w), bx = upload_vec(x), bq = make(ops::q8_1_bytes(m, k)), by = make(4ull * m * n);
    const std::uint32_t split = std::max(1u, n / 2);
    std::vector<ops::TableChunk> table{{bw.range(0, split * dtype_bytes(t, k)), 0, split}};
    Buffer rest;
    if (split < n) {
      rest = upload_vec(std::vector<std::byte>(w.begin() + split * dtype_bytes(t, k), w.end()));
      table.push_back({rest.range(), split, n - split});
    }
    run([&](Context& ctx, CommandList& cmd) {
      ops::quantize_q8_1(ctx, cmd, {&bx}, {&bq}, m, k);
      ops::matmul_q8_1(ctx, cmd, t, table, {&bq}, {&by}, m, k, n);
    });
    std::vector<std::uint32_t> q(ops::q8_1_bytes(m, k) / 4);
    download(*ctx_, bq.range(), std::as_writable_bytes(std::span(q)));
    std::vector<float> xhat(x.size());
    std::size_t bad_q = 0;
    for (std::size_t b = 0; b < x.size() / 32; ++b) {
      const std::uint32_t* blk = &q[b * 10];
      float amax = 0;
      for (std::size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
      const float d = std::bit_cast<float>(blk[8]), s = std::bit_cast<float>(blk[9]);
      EXPECT_NEAR(d, amax / 127.0f, 1e-6f * amax) << what << " block " << b;
      int sum = 0;
      for (std::size_t i = 0; i < 32; ++i) {
        const int qi = static_cast<std::int8_t>(blk[i / 4] >> (8 * (i % 4)));
        const double want = d > 0 ? x[b * 32 + i] / d : 0.0;
        if (std::fabs(qi - want) > 0.5 + 1e-3) ++bad_q;
        sum += qi;
        xhat[b * 32 + i] = qi * d;
      }
      EXPECT_NEAR(s, d * sum, 1e-5 * std::max(1.0f, std::fabs(d * sum))) << what << " block " << b;
    }
    EXPECT_EQ(bad_q, 0u) << what << ": quantized values off by more than the rounding";
    EXPECT_TRUE(all_close(download_f32(by, std::size_t{m} * n), ref::matmul(t, w, xhat, m, k, n),
                          reduction_tolerance(kMatmul, k), what + " matvec_int_dot"));
  }
};

TEST_P(MatmulQ8_1Test, EveryQuantizedType) {
  if (!ctx_->caps().integer_dot_product) {
    Buffer w = make(4096), x = make(4 * 32), y = make(4);
    const ops::TableChunk chunk[] = {{w.range(), 0, 1}};
    try {
      run([&](Context& ctx, CommandList& cmd) { ops::matmul_q8_1(ctx, cmd, DType::Q8_0, chunk, {&x}, {&y}, 1, 32, 1); });
      ADD_FAILURE() << "matmul_q8_1 ran without integer dot products";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("VK_KHR_shader_integer_dot_product"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << ctx_->caps().name << " (profile " << ctx_->caps().profile << ") has no integer dot product";
  }
  std::uint32_t seed = 3000;
  for (const DType t : kAllTypes) {
    if (!ops::matmul_q8_1_supported(ctx_->caps(), t)) continue;
    const std::uint32_t b = std::max<std::uint32_t>(dtype_info(t).block_size, 32);
    check(t, 1, b, 7, seed += 2);
    check(t, 3, 3 * b, 65, seed += 2);
    check(t, 17, b, 9, seed += 2);
  }
  EXPECT_FALSE(ops::matmul_q8_1_supported(ctx_->caps(), DType::F16));
}

TEST_P(MatmulTest, F32) { check_type(DType::F32); }
TEST_P(MatmulTest, F16) { check_type(DType::F16); }
TEST_P(MatmulTest, BF16) { check_type(DType::BF16); }
TEST_P(MatmulTest, Q4_0) { check_type(DType::Q4_0); }
TEST_P(MatmulTest, Q4_1) { check_type(DType::Q4_1); }
TEST_P(MatmulTest, Q5_0) { check_type(DType::Q5_0); }
TEST_P(MatmulTest, Q8_0) { check_type(DType::Q8_0); }
TEST_P(MatmulTest, Q4_K) { check_type(DType::Q4_K); }
TEST_P(MatmulTest, Q5_K) { check_type(DType::Q5_K); }
TEST_P(MatmulTest, Q6_K) { check_type(DType::Q6_K); }
TEST_P(MatmulTest, EveryVariant) { check_variants(); }

// A Gemma-sized row (the 15360 feed-forward width) for a single token.
TEST_P(MatmulTest, WideRowQ4_K) {
  for (const MatmulKernel v : {MatmulKernel::automatic, MatmulKernel::matvec, MatmulKernel::tiled}) {
    add(DType::Q4_K, 1, 15360, 5, false, 77);
    run_and_check(v);
  }
}

// Passes when f() throws tessera::Error whose message contains `part`.
::testing::AssertionResult throws_with(const std::function<void()>& f, const std::string& part) {
  try {
    f();
  } catch (const Error& e) {
    if (std::string(e.what()).find(part) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message \"" << e.what() << "\" lacks \"" << part << "\"";
  }
  return ::testing::AssertionFailure() << "no tessera::Error (expected \"" << part << "\")";
}

TEST_P(MatmulTest, RejectsBadInputs) {
  Buffer b = make(1 << 16);
  const BufferRange all{&b};
  const ops::TableChunk one[] = {{all, 0, 4}};
  const auto mm = [&](DType t, std::span<const ops::TableChunk> w, BufferRange x, BufferRange y, std::uint32_t m,
                      std::uint32_t k, std::uint32_t n) {
    return [=, this] { ops::matmul(*ctx_, *cmd_, t, w, x, y, m, k, n); };
  };
  cmd_->begin();
  EXPECT_TRUE(throws_with(mm(DType::Q4_K, one, all, all, 1, 100, 4), "[matmul]"));
  EXPECT_TRUE(throws_with(mm(DType::Q4_K, one, all, all, 1, 100, 4), "not a multiple of the Q4_K block (256)"));
  EXPECT_TRUE(throws_with(mm(DType::Q8_0, one, all, all, 1, 48, 4), "not a multiple of the Q8_0 block (32)"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, all, all, 0, 8, 4), "empty shape"));
  EXPECT_TRUE(throws_with(mm(DType::F32, {}, all, all, 1, 8, 4), "no chunks"));
  // Chunks that miss, overlap or overrun the n output rows.
  const ops::TableChunk gap[] = {{all, 0, 2}, {all, 3, 1}};
  const ops::TableChunk overlap[] = {{all, 0, 3}, {all, 2, 2}};
  const ops::TableChunk empty[] = {{all, 0, 4}, {all, 4, 0}};
  EXPECT_TRUE(throws_with(mm(DType::F32, gap, all, all, 1, 8, 4), "rows 2..3 are missing"));
  EXPECT_TRUE(throws_with(mm(DType::F32, overlap, all, all, 1, 8, 4), "overlap"));
  EXPECT_TRUE(throws_with(mm(DType::F32, empty, all, all, 1, 8, 4), "has no rows"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, all, all, 1, 8, 3), "but the output has 3"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, all, all, 1, 8, 5), "but the output has 5"));
  // Ranges too small: weight (4 rows of 8 f32 = 128 bytes), x, y.
  const ops::TableChunk small[] = {{{&b, 0, 100}, 0, 4}};
  EXPECT_TRUE(throws_with(mm(DType::F32, small, all, all, 1, 8, 4),
                          "weight chunk at row 0 (4 rows of 32 bytes) needs 128 bytes"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, {&b, 0, 60}, all, 2, 8, 4), "x [2, 8] f32 needs 64 bytes"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, all, {&b, 0, 24}, 2, 8, 4), "y [2, 4] f32 needs 32 bytes"));
  EXPECT_TRUE(throws_with(mm(DType::F32, one, {}, all, 2, 8, 4), "x [2, 8] f32 is not bound"));
  // Forced kernels that need 32-element chunks.
  for (const MatmulKernel v : {MatmulKernel::matvec, MatmulKernel::matvec_lanes, MatmulKernel::tiled})
    EXPECT_TRUE(throws_with([&] { ops::matmul(*ctx_, *cmd_, DType::F32, one, all, all, 1, 8, 4, v); },
                            "kernel needs k to be a multiple of 32"));
  cmd_->submit_and_wait();
}

TESSERA_INSTANTIATE_PROFILES(MatmulTest);
TESSERA_INSTANTIATE_PROFILES(MatmulGegluTest);
TESSERA_INSTANTIATE_PROFILES(MatmulQ8_1Test);

// A chunk with more rows than one grid dimension holds (65535): rows continue in z.
TEST(MatmulGrid, RowsBeyondOneGridDimension) {
  std::unique_ptr<Context> ctx;
  try {
    ctx = Context::create(EngineOptions::from_env());
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no Vulkan device: " << e.what();
  }
  constexpr std::uint32_t m = 2, k = 4, n = 70001;
  const auto w = OpsTest::random_floats(std::size_t{n} * k, 91);
  const auto x = OpsTest::random_floats(std::size_t{m} * k, 92);
  Buffer bw = Buffer::create(ctx->device(), 4ull * w.size(), MemoryKind::Device);
  Buffer bx = Buffer::create(ctx->device(), 4ull * x.size(), MemoryKind::Device);
  Buffer by = Buffer::create(ctx->device(), 4ull * m * n, MemoryKind::Device);
  upload(*ctx, std::as_bytes(std::span(w)), bw.range());
  upload(*ctx, std::as_bytes(std::span(x)), bx.range());
  CommandList cmd(*ctx);
  cmd.begin();
  const ops::TableChunk chunk[] = {{bw.range(), 0, n}};
  ops::matmul(*ctx, cmd, DType::F32, chunk, bx.range(), by.range(), m, k, n);
  cmd.submit_and_wait();
  std::vector<float> got(std::size_t{m} * n);
  download(*ctx, by.range(), std::as_writable_bytes(std::span(got)));
  std::vector<std::byte> wb(w.size() * 4);
  std::memcpy(wb.data(), w.data(), wb.size());
  EXPECT_TRUE(all_close(got, ref::matmul(DType::F32, wb, x, m, k, n), reduction_tolerance(kMatmul, k), "70001 rows"));
  EXPECT_TRUE(validation_clean(*ctx));
}

}  // namespace
}  // namespace tessera::test
