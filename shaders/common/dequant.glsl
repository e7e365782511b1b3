// Scalar dequantization of one element of a GGML block, addressed in bytes: the portable path
// (no 8/16-bit storage needed). DTYPE_* selects the type; BLOCK_SIZE / BLOCK_BYTES describe it.
// Include after bytes.glsl.
#ifndef TESSERA_DEQUANT_GLSL
#define TESSERA_DEQUANT_GLSL

#if defined(DTYPE_F32)
#define BLOCK_SIZE 1u
#define BLOCK_BYTES 4u
float dequant(uint b, uint i) { return uintBitsToFloat(read_u32(b)); }
#elif defined(DTYPE_F16)
#define BLOCK_SIZE 1u
#define BLOCK_BYTES 2u
float dequant(uint b, uint i) { return read_f16(b); }
#elif defined(DTYPE_BF16)
#define BLOCK_SIZE 1u
#define BLOCK_BYTES 2u
float dequant(uint b, uint i) { return read_bf16(b); }
#elif defined(DTYPE_Q4_0)
#define BLOCK_SIZE 32u
#define BLOCK_BYTES 18u
// d f16 | qs[16]: low nibbles are elements 0..15, high nibbles 16..31; value (q - 8) * d.
float dequant(uint b, uint i) {
  const uint q = read_u8(b + 2u + (i & 15u));
  const uint nib = i < 16u ? (q & 15u) : (q >> 4);
  return read_f16(b) * (float(nib) - 8.0);
}
#elif defined(DTYPE_Q4_1)
#define BLOCK_SIZE 32u
#define BLOCK_BYTES 20u
// d f16 | m f16 | qs[16]: value q * d + m.
float dequant(uint b, uint i) {
  const uint q = read_u8(b + 4u + (i & 15u));
  const uint nib = i < 16u ? (q & 15u) : (q >> 4);
  return read_f16(b) * float(nib) + read_f16(b + 2u);
}
#elif defined(DTYPE_Q5_0)
#define BLOCK_SIZE 32u
#define BLOCK_BYTES 22u
// d f16 | qh u32 (bit i = 5th bit of element i) | qs[16]: value (q - 16) * d.
float dequant(uint b, uint i) {
  const uint qh = read_u32(b + 2u);
  const uint q = read_u8(b + 6u + (i & 15u));
  const uint nib = i < 16u ? (q & 15u) : (q >> 4);
  const uint hi = (qh >> i) & 1u;
  return read_f16(b) * (float(nib | (hi << 4)) - 16.0);
}
#elif defined(DTYPE_Q8_0)
#define BLOCK_SIZE 32u
#define BLOCK_BYTES 34u
// d f16 | qs int8[32]: value q * d.
float dequant(uint b, uint i) { return read_f16(b) * float(read_i8(b + 2u + i)); }
#elif defined(DTYPE_Q4_K) || defined(DTYPE_Q5_K)
#define BLOCK_SIZE 256u
// 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at s.
void k_scale_min(uint s, uint j, out float sc, out float mn) {
  if (j < 4u) {
    sc = float(read_u8(s + j) & 63u);
    mn = float(read_u8(s + j + 4u) & 63u);
  } else {
    sc = float((read_u8(s + j + 4u) & 15u) | ((read_u8(s + j - 4u) >> 6) << 4));
    mn = float((read_u8(s + j + 4u) >> 4) | ((read_u8(s + j) >> 6) << 4));
  }
}
#if defined(DTYPE_Q4_K)
#define BLOCK_BYTES 144u
// d f16 | dmin f16 | scales[12] | qs[128]: 4 groups of 64; each qs byte holds element l (low
// nibble, sub-block 2g) and element l + 32 (high nibble, sub-block 2g + 1) of group g.
float dequant(uint b, uint i) {
  const uint g = i >> 6, sub = (i >> 5) & 1u, l = i & 31u;
  const uint q = read_u8(b + 16u + g * 32u + l);
  const uint nib = sub == 0u ? (q & 15u) : (q >> 4);
  float sc, mn;
  k_scale_min(b + 4u, 2u * g + sub, sc, mn);
  return read_f16(b) * sc * float(nib) - read_f16(b + 2u) * mn;
}
#else
#define BLOCK_BYTES 176u
// d f16 | dmin f16 | scales[12] | qh[32] | qs[128]: as Q4_K plus a 5th bit, bit (2g + sub) of qh[l].
float dequant(uint b, uint i) {
  const uint g = i >> 6, sub = (i >> 5) & 1u, l = i & 31u;
  const uint q = read_u8(b + 48u + g * 32u + l);
  const uint nib = sub == 0u ? (q & 15u) : (q >> 4);
  const uint hi = (read_u8(b + 16u + l) >> (2u * g + sub)) & 1u;
  float sc, mn;
  k_scale_min(b + 4u, 2u * g + sub, sc, mn);
  return read_f16(b) * sc * float(nib | (hi << 4)) - read_f16(b + 2u) * mn;
}
#endif
#elif defined(DTYPE_Q6_K)
#define BLOCK_SIZE 256u
#define BLOCK_BYTES 210u
// ql[128] | qh[64] | scales int8[16] | d f16. Two halves of 128; in a half, quarter k (0..3) of
// 32 elements takes low (k < 2) or high nibbles of ql[l + 32 * (k & 1)] and bits 2k..2k+1 of qh[l].
float dequant(uint b, uint i) {
  const uint h = i >> 7, k = (i >> 5) & 3u, l = i & 31u;
  const uint qlb = read_u8(b + h * 64u + l + 32u * (k & 1u));
  const uint lo = k < 2u ? (qlb & 15u) : (qlb >> 4);
  const uint hi = (read_u8(b + 128u + h * 32u + l) >> (2u * k)) & 3u;
  const int q = int(lo | (hi << 4)) - 32;
  const float sc = float(read_i8(b + 192u + h * 8u + (l >> 4) + 2u * k));
  return read_f16(b + 208u) * sc * float(q);
}
#else
#error "dequant.glsl: define one DTYPE_*"
#endif

#endif
