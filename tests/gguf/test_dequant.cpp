// Dequantizers against blocks built byte by byte with known d / scales / quants; the expected
// floats are worked out by hand in the comments (never by calling the code under test).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/error.h"
#include "runtime/quant/dequant.h"

namespace tessera {
namespace {

using Block = std::vector<std::uint8_t>;

void put16(Block& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v & 0xff);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

std::vector<float> run(DType t, const Block& b, std::int64_t n) {
  std::vector<float> y(static_cast<std::size_t>(n), -12345.0f);
  dequantize_row(t, b.data(), y.data(), n);
  return y;
}

// fp16 bit patterns used below.
constexpr std::uint16_t kH0_125 = 0x3000, kH0_25 = 0x3400, kH0_5 = 0x3800, kH1 = 0x3c00, kH2 = 0x4000,
                        kHm1 = 0xbc00;

TEST(Dequant, F32F16BF16) {
  const float f[3] = {1.5f, -0.0f, 3e38f};
  Block b(12);
  std::memcpy(b.data(), f, 12);
  EXPECT_EQ(run(DType::F32, b, 3), (std::vector<float>{1.5f, -0.0f, 3e38f}));

  Block h(12);
  const std::uint16_t hv[6] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0xfc00};
  for (int i = 0; i < 6; ++i) put16(h, 2 * i, hv[i]);
  const auto y = run(DType::F16, h, 6);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -2.0f);
  EXPECT_EQ(y[2], 65504.0f);
  EXPECT_EQ(y[3], 5.9604644775390625e-08f);  // 2^-24
  EXPECT_EQ(y[4], 0.333251953125f);          // 0x155 / 1024 + 1, times 2^-2
  EXPECT_EQ(y[5], -std::numeric_limits<float>::infinity());

  Block g(6);
  put16(g, 0, 0x3f80);  // 1.0
  put16(g, 2, 0xc040);  // -3.0
  put16(g, 4, 0x4049);  // 3.140625
  EXPECT_EQ(run(DType::BF16, g, 3), (std::vector<float>{1.0f, -3.0f, 3.140625f}));
}

// Q4_0: d = 0.5; qs[j] = j | (15 - j) << 4. x[j] = (j - 8)·0.5, x[j+16] = (7 - j)·0.5.
TEST(Dequant, Q4_0) {
  Block b(18);
  put16(b, 0, kH0_5);
  for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<std::uint8_t>(j | (15 - j) << 4);
  const std::vector<float> want = {-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5,
                                   3.5, 3, 2.5, 2, 1.5, 1, 0.5, 0, -0.5, -1, -1.5, -2, -2.5, -3, -3.5, -4};
  EXPECT_EQ(run(DType::Q4_0, b, 32), want);
}

// Q4_1: d = 0.25, m = -1; same nibbles. x[j] = 0.25·j - 1, x[j+16] = 0.25·(15 - j) - 1.
TEST(Dequant, Q4_1) {
  Block b(20);
  put16(b, 0, kH0_25);
  put16(b, 2, kHm1);
  for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<std::uint8_t>(j | (15 - j) << 4);
  const std::vector<float> want = {-1, -0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75,
                                   2.75, 2.5, 2.25, 2, 1.75, 1.5, 1.25, 1, 0.75, 0.5, 0.25, 0, -0.25, -0.5, -0.75, -1};
  EXPECT_EQ(run(DType::Q4_1, b, 32), want);
}

// Q5_0: d = 2, qh = 0xA5A5F00F (bit j = 5th bit of element j), qs as Q4_0.
// Element j < 16: (j + 16·bit_j - 16)·2 with bits 0-3 and 12-15 set.
// Element 16 + j: (15 - j + 16·bit_{16+j} - 16)·2 with 0xA5A5 = bits 16,18,21,23,24,26,29,31.
TEST(Dequant, Q5_0) {
  Block b(22);
  put16(b, 0, kH2);
  const std::uint8_t qh[4] = {0x0f, 0xf0, 0xa5, 0xa5};  // little-endian 0xA5A5F00F
  std::memcpy(&b[2], qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<std::uint8_t>(j | (15 - j) << 4);
  const std::vector<float> want = {0,  2,   4,  6,  -24, -22, -20, -18, -16, -14, -12, -10, 24, 26,  28, 30,
                                   30, -4, 26, -8, -10, 20,  -14, 16,  14,  -20, 10,  -24, -26, 4, -30, 0};
  EXPECT_EQ(run(DType::Q5_0, b, 32), want);
}

// Q8_0: d = 0.125, qs = -128, -1, 0, 1, 127, then 5 everywhere.
TEST(Dequant, Q8_0) {
  Block b(34, 5);
  put16(b, 0, kH0_125);
  const std::int8_t q[5] = {-128, -1, 0, 1, 127};
  std::memcpy(&b[2], q, 5);
  const auto y = run(DType::Q8_0, b, 32);
  EXPECT_EQ(y[0], -16.0f);
  EXPECT_EQ(y[1], -0.125f);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 0.125f);
  EXPECT_EQ(y[4], 15.875f);
  for (int j = 5; j < 32; ++j) EXPECT_EQ(y[j], 0.625f) << j;
}

// The K-quant scale block used by Q4_K and Q5_K: six-bit scales {1,2,3,4,5,33,62,63} and mins
// {0,1,2,3,10,20,40,63}, packed by hand:
//   bytes 0-3  = sc[0..3] | top2(sc[4..7]) << 6 = 1|0, 2|2<<6, 3|3<<6, 4|3<<6 = 01 82 C3 C4
//   bytes 4-7  = m[0..3]  | top2(m[4..7]) << 6  = 0|0, 1|1<<6, 2|2<<6, 3|3<<6 = 00 41 82 C3
//   bytes 8-11 = low4(sc[4..7]) | low4(m[4..7]) << 4 = 5|A0, 1|40, E|80, F|F0 = A5 41 8E FF
constexpr std::array<std::uint8_t, 12> kKScales = {0x01, 0x82, 0xc3, 0xc4, 0x00, 0x41, 0x82, 0xc3, 0xa5, 0x41, 0x8e, 0xff};
constexpr int kSc[8] = {1, 2, 3, 4, 5, 33, 62, 63};
constexpr int kMin[8] = {0, 1, 2, 3, 10, 20, 40, 63};

// Q4_K: d = 1, dmin = 0.5. qs[i] = (i % 16) | (15 - i % 16) << 4. Chunk c (64 elements) uses
// qs[32c..32c+31]: element 64c + l (l < 32) = low nibble, sub-block 2c; element 64c + 32 + l =
// high nibble, sub-block 2c + 1. x = 1·sc·q - 0.5·m.
TEST(Dequant, Q4_K) {
  Block b(144);
  put16(b, 0, kH1);
  put16(b, 2, kH0_5);
  std::memcpy(&b[4], kKScales.data(), 12);
  for (int i = 0; i < 128; ++i) b[16 + i] = static_cast<std::uint8_t>((i % 16) | (15 - i % 16) << 4);
  const auto y = run(DType::Q4_K, b, 256);
  EXPECT_EQ(y[0], 0.0f);      // sub 0, q 0: 1·1·0 - 0.5·0
  EXPECT_EQ(y[31], 15.0f);    // sub 0, q 15
  EXPECT_EQ(y[32], 29.5f);    // sub 1, q 15: 2·15 - 0.5·1
  EXPECT_EQ(y[63], -0.5f);    // sub 1, q 0: -0.5·1
  EXPECT_EQ(y[69], 14.0f);    // sub 2, q 5: 3·5 - 0.5·2
  EXPECT_EQ(y[160], 485.0f);  // sub 5, q 15: 33·15 - 0.5·20
  EXPECT_EQ(y[209], 42.0f);   // sub 6, q 1: 62·1 - 0.5·40
  EXPECT_EQ(y[255], -31.5f);  // sub 7, q 0: -0.5·63
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64;
    const int sub = 2 * c + (r >= 32);
    const int q = r < 32 ? r % 16 : 15 - (r - 32) % 16;
    EXPECT_EQ(y[e], static_cast<float>(kSc[sub] * q) - 0.5f * static_cast<float>(kMin[sub])) << e;
  }
}

// Q5_K: d = 0.25, dmin = 1, same scales and qs as Q4_K; qh[l] = 0x55 for even l (5th bit of the
// low-nibble elements 64c + l of every chunk), 0xAA for odd l (the high-nibble elements 64c+32+l).
TEST(Dequant, Q5_K) {
  Block b(176);
  put16(b, 0, kH0_25);
  put16(b, 2, kH1);
  std::memcpy(&b[4], kKScales.data(), 12);
  for (int l = 0; l < 32; ++l) b[16 + l] = l % 2 == 0 ? 0x55 : 0xaa;
  for (int i = 0; i < 128; ++i) b[48 + i] = static_cast<std::uint8_t>((i % 16) | (15 - i % 16) << 4);
  const auto y = run(DType::Q5_K, b, 256);
  EXPECT_EQ(y[0], 4.0f);     // sub 0, q 0+16: 0.25·1·16 - 0
  EXPECT_EQ(y[1], 0.25f);    // sub 0, q 1
  EXPECT_EQ(y[32], 6.5f);    // sub 1, l 0 even: q 15: 0.25·2·15 - 1
  EXPECT_EQ(y[33], 14.0f);   // sub 1, l 1 odd: q 14+16: 0.5·30 - 1
  EXPECT_EQ(y[130], 12.5f);  // sub 4, l 2 even: q 2+16: 0.25·5·18 - 10
  EXPECT_EQ(y[255], 189.0f);  // sub 7, l 31 odd: q 0+16: 0.25·63·16 - 63
  for (int e = 0; e < 256; ++e) {
    const int c = e / 64, r = e % 64, l = r % 32;
    const int sub = 2 * c + (r >= 32);
    const int q = r < 32 ? l % 16 + (l % 2 == 0 ? 16 : 0) : 15 - l % 16 + (l % 2 == 1 ? 16 : 0);
    EXPECT_EQ(y[e], 0.25f * static_cast<float>(kSc[sub] * q) - static_cast<float>(kMin[sub])) << e;
  }
}

// Q6_K: ql[i] = (i & 15) | (i >> 4) << 4 (for i < 128 the high nibble is i / 16), qh[j] = 0xE4
// (bits 0-1 = 0, 2-3 = 1, 4-5 = 2, 6-7 = 3), scales[k] = {1,-1,2,-2,...,8,-8}, d = 0.5.
// Element e = 128h + 32·quarter + l has scale scales[e / 16] and 6-bit value
//   quarter 0: (l & 15) + 0,  quarter 1: (l & 15) + 16,
//   quarter 2: (4h + l/16) + 32,  quarter 3: (4h + 2 + l/16) + 48;  x = 0.5·scale·(q - 32).
TEST(Dequant, Q6_K) {
  Block b(210);
  for (int i = 0; i < 128; ++i) b[i] = static_cast<std::uint8_t>((i & 15) | (i >> 4) << 4);
  for (int j = 0; j < 64; ++j) b[128 + j] = 0xe4;
  const std::int8_t sc[16] = {1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8};
  std::memcpy(&b[192], sc, 16);
  put16(b, 208, kH0_5);
  const auto y = run(DType::Q6_K, b, 256);
  EXPECT_EQ(y[0], -16.0f);    // q 0 - 32, scale 1
  EXPECT_EQ(y[5], -13.5f);    // q 5 - 32 = -27, scale 1
  EXPECT_EQ(y[40], -8.0f);    // quarter 1, l 8: 8 + 16 - 32 = -8, scale[2] = 2
  EXPECT_EQ(y[100], 36.0f);   // quarter 3, l 4: 2 + 48 - 32 = 18, scale[6] = 4
  EXPECT_EQ(y[200], 14.0f);   // h 1, quarter 2, l 8: 4 + 32 - 32 = 4, scale[12] = 7
  EXPECT_EQ(y[255], -92.0f);  // h 1, quarter 3, l 31: 7 + 48 - 32 = 23, scale[15] = -8
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, quarter = (e % 128) / 32, l = e % 32;
    const int q6 = quarter == 0 ? (l & 15) : quarter == 1 ? (l & 15) + 16
                 : quarter == 2 ? 4 * h + l / 16 + 32 : 4 * h + 2 + l / 16 + 48;
    EXPECT_EQ(y[e], 0.5f * static_cast<float>(sc[e / 16] * (q6 - 32))) << e;
  }
}

TEST(Dequant, SeveralBlocksAndUnalignedSource) {
  // Two Q8_0 blocks at an odd address: d = 1 and d = 2, all quants 3.
  Block b(1 + 68, 3);
  put16(b, 1, kH1);
  put16(b, 35, kH2);
  std::vector<float> y(64);
  dequantize_row(DType::Q8_0, b.data() + 1, y.data(), 64);
  EXPECT_EQ(y[0], 3.0f);
  EXPECT_EQ(y[31], 3.0f);
  EXPECT_EQ(y[32], 6.0f);
  EXPECT_EQ(y[63], 6.0f);
  const auto v = dequantize(DType::Q8_0, std::as_bytes(std::span(b)).subspan(1), 64);
  EXPECT_EQ(v, y);
}

TEST(Dequant, RejectsBadCounts) {
  Block b(1024);
  float y[512];
  EXPECT_THROW(dequantize_row(DType::Q4_K, b.data(), y, 100), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_0, b.data(), y, 33), Error);
  EXPECT_THROW(dequantize_row(DType::F16, b.data(), y, -2), Error);
  EXPECT_NO_THROW(dequantize_row(DType::Q6_K, b.data(), y, 0));
  EXPECT_THROW(dequantize(DType::Q4_0, std::as_bytes(std::span(b)).first(17), 32), Error);
  try {
    dequantize_row(DType::Q4_K, b.data(), y, 100);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[dequant] Q4_K: element count 100"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera
