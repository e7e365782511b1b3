// engine/half.h: fp16 / bf16 <-> fp32 on hand-picked bit patterns (zeros, subnormals, the
// largest finite values, infinities, NaNs, rounding ties) and exhaustive round trips.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/half.h"

namespace tessera {
namespace {

float bits(std::uint32_t b) { return std::bit_cast<float>(b); }
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Half, Fp16ToFp32) {
  EXPECT_EQ(std::bit_cast<std::uint32_t>(fp16_to_fp32(0x0000)), 0x00000000u);
  EXPECT_EQ(std::bit_cast<std::uint32_t>(fp16_to_fp32(0x8000)), 0x80000000u);  // -0
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
  EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);                     // largest finite
  EXPECT_EQ(fp16_to_fp32(0x0400), bits(0x38800000));             // smallest normal 2^-14
  EXPECT_EQ(fp16_to_fp32(0x0001), bits(0x33800000));             // smallest subnormal 2^-24
  EXPECT_EQ(fp16_to_fp32(0x03ff), 1023.0f * bits(0x33800000));   // largest subnormal
  EXPECT_EQ(fp16_to_fp32(0x8200), -512.0f * bits(0x33800000));   // negative subnormal 2^-15
  EXPECT_EQ(fp16_to_fp32(0x7c00), kInf);
  EXPECT_EQ(fp16_to_fp32(0xfc00), -kInf);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7e00)));
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0x7c01)));  // signalling NaN stays NaN
  EXPECT_TRUE(std::isnan(fp16_to_fp32(0xfe00)));
}

TEST(Half, Fp32ToFp16Rounding) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);  // below the midpoint to 65536: rounds down
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // the midpoint rounds to even = overflow to inf
  EXPECT_EQ(fp32_to_fp16(1e9f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-1e9f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(kInf), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-kInf), 0xfc00);
  const std::uint16_t nan = fp32_to_fp16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
  EXPECT_NE(fp32_to_fp16(bits(0x7f800001)) & 0x03ff, 0);  // signalling NaN does not become inf
  // Ties to even around 1.0: the fp16 step is 2^-10.
  EXPECT_EQ(fp32_to_fp16(bits(0x3f801000)), 0x3c00);  // 1 + 2^-11: tie, keep even 0x3c00
  EXPECT_EQ(fp32_to_fp16(bits(0x3f803000)), 0x3c02);  // 1 + 3·2^-11: tie, round up to even 0x3c02
  EXPECT_EQ(fp32_to_fp16(bits(0x3f801001)), 0x3c01);  // just above the tie
  EXPECT_EQ(fp32_to_fp16(bits(0x3f800fff)), 0x3c00);  // just below the tie
  EXPECT_EQ(fp32_to_fp16(bits(0x3fffffff)), 0x4000);  // rounding carries into the exponent
  // Subnormals: steps of 2^-24.
  EXPECT_EQ(fp32_to_fp16(bits(0x33800000)), 0x0001);  // 2^-24
  EXPECT_EQ(fp32_to_fp16(bits(0x33000000)), 0x0000);  // 2^-25: tie between 0 and 2^-24, even is 0
  EXPECT_EQ(fp32_to_fp16(bits(0x33000001)), 0x0001);  // just above
  EXPECT_EQ(fp32_to_fp16(bits(0x33c00000)), 0x0002);  // 1.5·2^-24: tie between 1 and 2, even is 2
  EXPECT_EQ(fp32_to_fp16(bits(0x34200000)), 0x0002);  // 2.5·2^-24: tie between 2 and 3, even is 2
  EXPECT_EQ(fp32_to_fp16(bits(0x387fc000)), 0x03ff);  // largest subnormal
  EXPECT_EQ(fp32_to_fp16(bits(0x387fe000)), 0x0400);  // tie between 0x3ff and 0x400: even 0x400
  EXPECT_EQ(fp32_to_fp16(1e-10f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-1e-10f), 0x8000);
}

TEST(Half, Fp16RoundTripsEveryValue) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f)))) << h;
      continue;
    }
    ASSERT_EQ(fp32_to_fp16(f), h) << std::hex << h;
    EXPECT_EQ(round_fp16(f), f);
  }
}

TEST(Half, Bf16) {
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0xc040), -3.0f);
  EXPECT_EQ(bf16_to_fp32(0x0001), bits(0x00010000));  // subnormal
  EXPECT_EQ(bf16_to_fp32(0x7f80), kInf);
  EXPECT_TRUE(std::isnan(bf16_to_fp32(0x7fc0)));
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(bits(0x3f808000)), 0x3f80);  // tie: keep even
  EXPECT_EQ(fp32_to_bf16(bits(0x3f818000)), 0x3f82);  // tie: round up to even
  EXPECT_EQ(fp32_to_bf16(bits(0x3f808001)), 0x3f81);  // above the tie
  EXPECT_EQ(fp32_to_bf16(bits(0x3f807fff)), 0x3f80);  // below the tie
  EXPECT_EQ(fp32_to_bf16(bits(0x00018000)), 0x0002);  // subnormal tie rounds to even
  EXPECT_EQ(fp32_to_bf16(bits(0x7f7fffff)), 0x7f80);  // FLT_MAX rounds to inf
  EXPECT_EQ(fp32_to_bf16(kInf), 0x7f80);
  EXPECT_EQ(fp32_to_bf16(-kInf), 0xff80);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(bits(0x7fc00000)), 0x7fc0);
  const std::uint16_t snan = fp32_to_bf16(bits(0x7f800001));  // payload only in the low bits
  EXPECT_TRUE(std::isnan(bf16_to_fp32(snan))) << std::hex << snan;
  EXPECT_EQ(round_bf16(3.14159265f), 3.140625f);
}

TEST(Half, Bf16RoundTripsEveryValue) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_fp32(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f)))) << h;
      continue;
    }
    ASSERT_EQ(fp32_to_bf16(f), h) << std::hex << h;
  }
}

}  // namespace
}  // namespace tessera
