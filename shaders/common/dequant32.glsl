// Dequantization of 4 consecutive weights (quad q = 0..7 of 32-element chunk c: elements
// 32c + 4q .. 32c + 4q + 3) with 32-bit word loads: the fast path of the mat-vec kernels. Eight
// invocations share a chunk, so their weight and activation loads are adjacent. Every supported
// type has a 32-element structure (Q4_0/Q4_1/Q5_0/Q8_0 blocks, the K-quants' sub-blocks): the
// chunk's scale is read by each of the eight (the same words, cached). Blocks of 18, 22, 34 and
// 210 bytes are only 2-byte aligned: their words are joined from two loads.
// DTYPE_* selects the type; define WORDS as the weight buffer's uint[] first.
#ifndef TESSERA_DEQUANT32_GLSL
#define TESSERA_DEQUANT32_GLSL

// The 32-bit little-endian word at any even byte offset (the next word only when needed).
uint word_at(uint byte_off) {
  const uint i = byte_off >> 2, sh = (byte_off & 3u) * 8u;
  return sh == 0u ? WORDS[i] : (WORDS[i] >> sh) | (WORDS[i + 1u] << (32u - sh));
}

// The f16 at an even byte offset (one word load: never past the block).
float f16_at(uint byte_off) { return unpackHalf2x16(WORDS[byte_off >> 2] >> ((byte_off & 2u) * 8u)).x; }

// The 4 nibbles at bit `shift` of each byte of `q`.
uvec4 nibbles(uint q, uint shift) { return (uvec4(q) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 15u; }

#if defined(DTYPE_F32)
vec4 dequant4(uint row, uint c, uint q) {
  const uint i = (row + c * 128u + q * 16u) >> 2;  // f32 rows are word-aligned
  return vec4(uintBitsToFloat(WORDS[i]), uintBitsToFloat(WORDS[i + 1u]), uintBitsToFloat(WORDS[i + 2u]),
              uintBitsToFloat(WORDS[i + 3u]));
}
#elif defined(DTYPE_F16) || defined(DTYPE_BF16)
vec4 dequant4(uint row, uint c, uint q) {
  const uint i = (row + c * 64u + q * 8u) >> 2;  // 16-bit rows of 32k elements are word-aligned
  const uint a = WORDS[i], b = WORDS[i + 1u];
#if defined(DTYPE_F16)
  return vec4(unpackHalf2x16(a), unpackHalf2x16(b));
#else
  return vec4(uintBitsToFloat(a << 16), uintBitsToFloat(a & 0xffff0000u), uintBitsToFloat(b << 16),
              uintBitsToFloat(b & 0xffff0000u));
#endif
}
#elif defined(DTYPE_Q4_0) || defined(DTYPE_Q4_1)
// Q4_0: d f16 | qs[16]; (n - 8) * d.  Q4_1: d f16 | m f16 | qs[16]; n * d + m.
// Byte j holds element j (low nibble) and element j + 16 (high nibble).
vec4 dequant4(uint row, uint c, uint q) {
#if defined(DTYPE_Q4_0)
  const uint b = row + c * 18u, qs = b + 2u;
  const float d = f16_at(b), bias = -8.0 * d;
#else
  const uint b = row + c * 20u, qs = b + 4u;
  const vec2 dm = unpackHalf2x16(WORDS[b >> 2]);
  const float d = dm.x, bias = dm.y;
#endif
  return vec4(nibbles(word_at(qs + 4u * (q & 3u)), (q >> 2) * 4u)) * d + bias;
}
#elif defined(DTYPE_Q5_0)
// d f16 | qh u32 (bit j: 5th bit of element j) | qs[16]; (n - 16) * d.
vec4 dequant4(uint row, uint c, uint q) {
  const uint b = row + c * 22u;
  const float d = f16_at(b);
  const uvec4 hi = (uvec4(word_at(b + 2u)) >> (uvec4(0u, 1u, 2u, 3u) + 4u * q)) & 1u;
  return vec4(nibbles(word_at(b + 6u + 4u * (q & 3u)), (q >> 2) * 4u) | (hi << 4)) * d - 16.0 * d;
}
#elif defined(DTYPE_Q8_0)
// d f16 | qs int8[32]; n * d.
vec4 dequant4(uint row, uint c, uint q) {
  const uint b = row + c * 34u;
  const ivec4 n = ivec4(uvec4(word_at(b + 2u + 4u * q)) << uvec4(24u, 16u, 8u, 0u)) >> 24;
  return vec4(n) * f16_at(b);
}
#elif defined(DTYPE_Q4_K) || defined(DTYPE_Q5_K)
// d f16 | dmin f16 | scales[12] | (Q5_K: qh[32]) | qs[128]. Chunk c is sub-block s = c % 8 of
// block c / 8: group g = s / 2 of 64 elements (qs bytes 32g..32g+31), nibble half s % 2; value
// d * scale(s) * n - dmin * min(s) with 6-bit scale and min.
vec4 dequant4(uint row, uint c, uint q) {
#if defined(DTYPE_Q4_K)
  const uint b = (row + (c >> 3) * 144u) >> 2, qs = b + 4u;
#else
  const uint b = (row + (c >> 3) * 176u) >> 2, qs = b + 12u;
#endif
  const uint s = c & 7u;
  const vec2 dd = unpackHalf2x16(WORDS[b]);
  // scales[0..11] as three words: 6-bit scales 0-3 (+ top bits of 4-7), mins 0-3 (+ top bits),
  // low nibbles of scales / mins 4-7.
  const uint s0 = WORDS[b + 1u], s1 = WORDS[b + 2u], s2 = WORDS[b + 3u];
  const uint j = (s & 3u) * 8u;
  const uint sc = s < 4u ? (s0 >> j) & 63u : ((s2 >> j) & 15u) | (((s0 >> (j + 6u)) & 3u) << 4);
  const uint mn = s < 4u ? (s1 >> j) & 63u : ((s2 >> (j + 4u)) & 15u) | (((s1 >> (j + 6u)) & 3u) << 4);
  uvec4 n = nibbles(WORDS[qs + (s >> 1) * 8u + q], (s & 1u) * 4u);
#if defined(DTYPE_Q5_K)
  n |= ((uvec4(WORDS[b + 4u + q]) >> (uvec4(0u, 8u, 16u, 24u) + s)) & 1u) << 4;  // qh[4q..4q+3] bit s
#endif
  return vec4(n) * (dd.x * float(sc)) - dd.y * float(mn);
}
#elif defined(DTYPE_Q6_K)
// ql[128] | qh[64] | scales int8[16] | d f16 (210 bytes, 2-byte aligned). Chunk c is quarter
// k = s % 4 of half h = s / 4 (s = c % 8) of block c / 8: low 4 bits from the low (k < 2) or high
// nibbles of ql[64h + 32(k & 1) + l], 2 high bits from qh[32h + l] >> 2k, scale
// scales[8h + 2k + l / 16]; value d * scale * (n - 32).
vec4 dequant4(uint row, uint c, uint q) {
  const uint b = row + (c >> 3) * 210u;
  const uint s = c & 7u, h = s >> 2, k = s & 3u;
  const uint scale_byte = b + 192u + h * 8u + 2u * k + (q >> 2);
  const float sc = float(int(word_at(scale_byte & ~1u) << (24u - 8u * (scale_byte & 1u))) >> 24);
  const uvec4 lo = nibbles(word_at(b + h * 64u + 32u * (k & 1u) + 4u * q), (k >> 1) * 4u);
  const uvec4 hi = (uvec4(word_at(b + 128u + h * 32u + 4u * q)) >> (uvec4(0u, 8u, 16u, 24u) + 2u * k)) & 3u;
  return (vec4(lo | (hi << 4)) - 32.0) * (f16_at(b + 208u) * sc);
}
#else
#error "dequant32.glsl: define one DTYPE_*"
#endif

#endif
