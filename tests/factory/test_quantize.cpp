// CPU quantizers: round trip through runtime/quant/dequant (written independently) with a
// bounded relative RMS error per type, exact grids, and argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/error.h"
#include "engine/half.h"
#include "runtime/quant/dequant.h"
#include "runtime/quant/quantize.h"

namespace tessera {
namespace {

std::vector<float> gaussian(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// Quantizes then dequantizes `x`; returns ||x - x'|| / ||x||.
double round_trip_error(DType t, const std::vector<float>& x, std::vector<float>* out = nullptr) {
  const auto n = static_cast<std::int64_t>(x.size());
  std::vector<std::uint8_t> q(dtype_bytes(t, x.size()));
  quantize_row(t, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(t, q.data(), y.data(), n);
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    den += static_cast<double>(x[i]) * x[i];
  }
  if (out) *out = std::move(y);
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

struct Case {
  DType type;
  double max_rel_rms;  // bound on the relative RMS error of Gaussian data
};

// Ideal round-to-nearest on Gaussian data gives about 0.02% (F16), 0.2% (BF16), 0.5% (Q8_0),
// 2% (Q6_K), 4% (Q5_*), 8% (Q4_*); the bounds leave ~25% headroom.
const Case kCases[] = {
    {DType::F32, 0.0},      {DType::F16, 0.0005},  {DType::BF16, 0.004},  {DType::Q8_0, 0.01},
    {DType::Q6_K, 0.03},    {DType::Q5_0, 0.05},   {DType::Q5_K, 0.05},   {DType::Q4_0, 0.10},
    {DType::Q4_1, 0.10},    {DType::Q4_K, 0.10},
};

TEST(Quantize, RoundTripErrorIsBounded) {
  for (const Case& c : kCases) {
    const std::vector<float> x = gaussian(4096, 1234);
    const double err = round_trip_error(c.type, x);
    EXPECT_LE(err, c.max_rel_rms) << dtype_name(c.type);
    if (c.type != DType::F32) {
      EXPECT_GT(err, 0.0) << dtype_name(c.type);
    }
  }
}

TEST(Quantize, RoundTripHandlesScalesAndOffsets) {
  // Weights of very different magnitude, all-positive data (norm-like) and a constant row.
  for (const Case& c : kCases) {
    for (float scale : {1e-3f, 30.0f}) {
      const std::vector<float> x = gaussian(512, 7, scale);
      EXPECT_LE(round_trip_error(c.type, x), c.max_rel_rms) << dtype_name(c.type) << " scale " << scale;
    }
    std::vector<float> pos = gaussian(512, 9, 0.05f);
    for (float& v : pos) v += 1.0f;
    EXPECT_LE(round_trip_error(c.type, pos), std::max(c.max_rel_rms, 1e-6)) << dtype_name(c.type) << " offset";
    const std::vector<float> flat(256, -0.75f);
    EXPECT_LE(round_trip_error(c.type, flat), std::max(c.max_rel_rms, 1e-6)) << dtype_name(c.type) << " constant";
  }
}

TEST(Quantize, ZerosStayZero) {
  for (const Case& c : kCases) {
    const std::vector<float> x(256, 0.0f);
    std::vector<float> y;
    round_trip_error(c.type, x, &y);
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(c.type);
  }
}

TEST(Quantize, PlainTypesMatchScalarRounding) {
  const std::vector<float> x = gaussian(64, 3);
  std::vector<std::uint16_t> h(64);
  quantize_row(DType::F16, x.data(), h.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(h[i], fp32_to_fp16(x[i]));
  quantize_row(DType::BF16, x.data(), h.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(h[i], fp32_to_bf16(x[i]));
  std::vector<float> f(64);
  quantize_row(DType::F32, x.data(), f.data(), 64);
  EXPECT_EQ(0, std::memcmp(f.data(), x.data(), 64 * sizeof(float)));
}

TEST(Quantize, IntegerGridsAreExact) {
  // Values k·d on the code grid (with the extreme code present) come back exactly.
  struct Grid {
    DType type;
    int lo, hi;
  };
  for (const Grid& g : {Grid{DType::Q8_0, -127, 127}, Grid{DType::Q4_0, -8, 7}, Grid{DType::Q5_0, -16, 15}}) {
    const float d = 0.125f;  // exact in fp16
    std::vector<float> x(64);
    for (int i = 0; i < 64; ++i) x[static_cast<std::size_t>(i)] = d * static_cast<float>(g.lo + (i * 7) % (g.hi - g.lo + 1));
    x[0] = d * static_cast<float>(g.lo);
    x[32] = d * static_cast<float>(g.lo);
    std::vector<float> y;
    EXPECT_EQ(round_trip_error(g.type, x, &y), 0.0) << dtype_name(g.type);
  }
}

TEST(Quantize, BlockLayoutFieldsAreWhereGgmlPutsThem) {
  // Q8_0: d (fp16) first, then 32 int8 codes.
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i - 16);
  std::uint8_t q8[kBlockQ8_0];
  quantize_row(DType::Q8_0, x.data(), q8, 32);
  std::uint16_t d;
  std::memcpy(&d, q8, 2);
  EXPECT_NEAR(fp16_to_fp32(d), 16.0f / 127.0f, 1e-4f);
  EXPECT_EQ(static_cast<std::int8_t>(q8[2]), -127);  // x[0] = -16 = -amax
  // Q6_K: d (fp16) is the last field, after ql[128], qh[64] and scales[16].
  std::vector<float> y = gaussian(256, 5);
  std::uint8_t q6[kBlockQ6_K];
  quantize_row(DType::Q6_K, y.data(), q6, 256);
  std::memcpy(&d, q6 + 208, 2);
  const float d6 = fp16_to_fp32(d);
  EXPECT_TRUE(std::isfinite(d6));
  EXPECT_NE(d6, 0.0f);
  // Q4_K: d and dmin (fp16) first; codes 0..15 as data need no min.
  std::vector<float> pos(256);
  for (int i = 0; i < 256; ++i) pos[static_cast<std::size_t>(i)] = static_cast<float>(i % 16);
  std::uint8_t q4[kBlockQ4_K];
  quantize_row(DType::Q4_K, pos.data(), q4, 256);
  std::uint16_t dmin;
  std::memcpy(&dmin, q4 + 2, 2);
  EXPECT_EQ(fp16_to_fp32(dmin), 0.0f);
  std::memcpy(&d, q4, 2);
  EXPECT_NEAR(fp16_to_fp32(d), 1.0f / 63.0f, 1e-5f);
  EXPECT_EQ(q4[4] & 63, 63);  // sub-block 0's 6-bit scale
}

TEST(Quantize, RejectsPartialBlocks) {
  std::vector<float> x(100, 1.0f);
  std::vector<std::uint8_t> out(1024);
  EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), out.data(), 100), Error);
  EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), out.data(), 33), Error);
  EXPECT_NO_THROW(quantize_row(DType::F16, x.data(), out.data(), 33));
}

TEST(Quantize, RowsAreConsecutive) {
  const std::vector<float> x = gaussian(3 * 256, 11);
  std::vector<std::uint8_t> all(3 * kBlockQ5_K), one(kBlockQ5_K);
  EXPECT_EQ(quantize_rows(DType::Q5_K, x.data(), all.data(), 3, 256), 3u * kBlockQ5_K);
  quantize_row(DType::Q5_K, x.data() + 512, one.data(), 256);
  EXPECT_EQ(0, std::memcmp(all.data() + 2 * kBlockQ5_K, one.data(), kBlockQ5_K));
}

}  // namespace
}  // namespace tessera
