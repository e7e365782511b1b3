// Dequantization with 32-bit word loads, by 32-element chunks: the fast path of the mat-vec and
// tiled matmul kernels. Every supported type has a 32-element structure (Q4_0/Q4_1/Q5_0/Q8_0
// blocks, the K-quants' sub-blocks), so a chunk's scales are decoded once (chunk_at) and its
// eight quads of 4 weights (quad q: elements 32c + 4q .. 32c + 4q + 3) are then read with
// chunk_quad. Kernels with 8 invocations per chunk call both per quad (dequant4); kernels with
// one invocation per chunk decode the header once for 32 weights. Blocks of 18, 22, 34 and 210
// bytes are only 2-byte aligned: their words are joined from two loads.
// DTYPE_* selects the type; define WORDS as the weight buffer's uint[] first. A kernel reading two
// weights of the same type includes this file twice: the second time with WORDS naming the other
// buffer and DQ(name) renaming its functions (e.g. `#define DQ(name) name##_up`).
#ifndef DQ
#define DQ(name) name
#define TESSERA_DQ_DEFAULT
#endif

// The 32-bit little-endian word at any even byte offset (the next word only when needed).
uint DQ(word_at)(uint byte_off) {
  const uint i = byte_off >> 2, sh = (byte_off & 3u) * 8u;
  return sh == 0u ? WORDS[i] : (WORDS[i] >> sh) | (WORDS[i + 1u] << (32u - sh));
}

// The f16 at an even byte offset (one word load: never past the block).
float DQ(f16_at)(uint byte_off) { return unpackHalf2x16(WORDS[byte_off >> 2] >> ((byte_off & 2u) * 8u)).x; }

#ifndef TESSERA_DEQUANT32_TYPES
#define TESSERA_DEQUANT32_TYPES
// The 4 nibbles at bit `shift` of each byte of `q`.
uvec4 nibbles(uint q, uint shift) { return (uvec4(q) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 15u; }

// A decoded chunk header: `at` locates its data, d / m are its scale and offset (per type), and
// `aux` carries a type's extra word (Q5_0 high bits) or sub-block index (K-quants).
struct Chunk {
  uint at;
  float d, m;
  uint aux;
};
#endif

#if defined(DTYPE_F32)
Chunk DQ(chunk_at)(uint row, uint c) { return Chunk((row + c * 128u) >> 2, 1.0, 0.0, 0u); }  // word index
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const uint i = ch.at + q * 4u;
  return vec4(uintBitsToFloat(WORDS[i]), uintBitsToFloat(WORDS[i + 1u]), uintBitsToFloat(WORDS[i + 2u]),
              uintBitsToFloat(WORDS[i + 3u]));
}
#elif defined(DTYPE_F16) || defined(DTYPE_BF16)
// 16-bit rows of 32k elements are word-aligned.
Chunk DQ(chunk_at)(uint row, uint c) { return Chunk((row + c * 64u) >> 2, 1.0, 0.0, 0u); }
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const uint a = WORDS[ch.at + q * 2u], b = WORDS[ch.at + q * 2u + 1u];
#if defined(DTYPE_F16)
  return vec4(unpackHalf2x16(a), unpackHalf2x16(b));
#else
  return vec4(uintBitsToFloat(a << 16), uintBitsToFloat(a & 0xffff0000u), uintBitsToFloat(b << 16),
              uintBitsToFloat(b & 0xffff0000u));
#endif
}
#elif defined(DTYPE_Q4_0) || defined(DTYPE_Q4_1)
// Q4_0: d f16 | qs[16]; (n - 8) * d.  Q4_1: d f16 | m f16 | qs[16]; n * d + m.
// Byte j holds element j (low nibble) and element j + 16 (high nibble). `at`: byte offset of qs.
Chunk DQ(chunk_at)(uint row, uint c) {
#if defined(DTYPE_Q4_0)
  const uint b = row + c * 18u;
  const float d = DQ(f16_at)(b);
  return Chunk(b + 2u, d, -8.0 * d, 0u);
#else
  const uint b = row + c * 20u;
  const vec2 dm = unpackHalf2x16(WORDS[b >> 2]);
  return Chunk(b + 4u, dm.x, dm.y, 0u);
#endif
}
vec4 DQ(chunk_quad)(Chunk ch, uint q) { return vec4(nibbles(DQ(word_at)(ch.at + 4u * (q & 3u)), (q >> 2) * 4u)) * ch.d + ch.m; }
#elif defined(DTYPE_Q5_0)
// d f16 | qh u32 (bit j: 5th bit of element j) | qs[16]; (n - 16) * d. `at`: byte offset of qs.
Chunk DQ(chunk_at)(uint row, uint c) {
  const uint b = row + c * 22u;
  const float d = DQ(f16_at)(b);
  return Chunk(b + 6u, d, -16.0 * d, DQ(word_at)(b + 2u));
}
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const uvec4 hi = (uvec4(ch.aux) >> (uvec4(0u, 1u, 2u, 3u) + 4u * q)) & 1u;
  return vec4(nibbles(DQ(word_at)(ch.at + 4u * (q & 3u)), (q >> 2) * 4u) | (hi << 4)) * ch.d + ch.m;
}
#elif defined(DTYPE_Q8_0)
// d f16 | qs int8[32]; n * d. `at`: byte offset of qs.
Chunk DQ(chunk_at)(uint row, uint c) {
  const uint b = row + c * 34u;
  return Chunk(b + 2u, DQ(f16_at)(b), 0.0, 0u);
}
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const ivec4 n = ivec4(uvec4(DQ(word_at)(ch.at + 4u * q)) << uvec4(24u, 16u, 8u, 0u)) >> 24;
  return vec4(n) * ch.d;
}
#elif defined(DTYPE_Q4_K) || defined(DTYPE_Q5_K)
// d f16 | dmin f16 | scales[12] | (Q5_K: qh[32]) | qs[128]. Chunk c is sub-block s = c % 8 of
// block c / 8: group g = s / 2 of 64 elements (qs bytes 32g..32g+31), nibble half s % 2; value
// d * scale(s) * n - dmin * min(s) with 6-bit scale and min. `at`: the block's word index.
Chunk DQ(chunk_at)(uint row, uint c) {
#if defined(DTYPE_Q4_K)
  const uint b = (row + (c >> 3) * 144u) >> 2;
#else
  const uint b = (row + (c >> 3) * 176u) >> 2;
#endif
  const uint s = c & 7u;
  const vec2 dd = unpackHalf2x16(WORDS[b]);
  // scales[0..11] as three words: 6-bit scales 0-3 (+ top bits of 4-7), mins 0-3 (+ top bits),
  // low nibbles of scales / mins 4-7.
  const uint s0 = WORDS[b + 1u], s1 = WORDS[b + 2u], s2 = WORDS[b + 3u];
  const uint j = (s & 3u) * 8u;
  const uint sc = s < 4u ? (s0 >> j) & 63u : ((s2 >> j) & 15u) | (((s0 >> (j + 6u)) & 3u) << 4);
  const uint mn = s < 4u ? (s1 >> j) & 63u : ((s2 >> (j + 4u)) & 15u) | (((s1 >> (j + 6u)) & 3u) << 4);
  return Chunk(b, dd.x * float(sc), -dd.y * float(mn), s);
}
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const uint s = ch.aux;
#if defined(DTYPE_Q4_K)
  uvec4 n = nibbles(WORDS[ch.at + 4u + (s >> 1) * 8u + q], (s & 1u) * 4u);
#else
  uvec4 n = nibbles(WORDS[ch.at + 12u + (s >> 1) * 8u + q], (s & 1u) * 4u);
  n |= ((uvec4(WORDS[ch.at + 4u + q]) >> (uvec4(0u, 8u, 16u, 24u) + s)) & 1u) << 4;  // qh[4q..4q+3] bit s
#endif
  return vec4(n) * ch.d + ch.m;
}
#elif defined(DTYPE_Q6_K)
// ql[128] | qh[64] | scales int8[16] | d f16 (210 bytes, 2-byte aligned). Chunk c is quarter
// k = s % 4 of half h = s / 4 (s = c % 8) of block c / 8: low 4 bits from the low (k < 2) or high
// nibbles of ql[64h + 32(k & 1) + l], 2 high bits from qh[32h + l] >> 2k, scale
// scales[8h + 2k + l / 16]; value d * scale * (n - 32). `at`: the block's byte offset; d / m:
// the scales of quads 0-3 / 4-7.
Chunk DQ(chunk_at)(uint row, uint c) {
  const uint b = row + (c >> 3) * 210u;
  const uint s = c & 7u;
  const uint sw = DQ(word_at)(b + 192u + (s >> 2) * 8u + 2u * (s & 3u));  // the two int8 scales (even offset)
  const float d = DQ(f16_at)(b + 208u);
  return Chunk(b, d * float(int(sw << 24) >> 24), d * float(int(sw << 16) >> 24), s);
}
vec4 DQ(chunk_quad)(Chunk ch, uint q) {
  const uint h = ch.aux >> 2, k = ch.aux & 3u;
  const uvec4 lo = nibbles(DQ(word_at)(ch.at + h * 64u + 32u * (k & 1u) + 4u * q), (k >> 1) * 4u);
  const uvec4 hi = (uvec4(DQ(word_at)(ch.at + 128u + h * 32u + 4u * q)) >> (uvec4(0u, 8u, 16u, 24u) + 2u * k)) & 3u;
  return (vec4(lo | (hi << 4)) - 32.0) * (q < 4u ? ch.d : ch.m);
}
#else
#error "dequant32.glsl: define one DTYPE_*"
#endif

#if defined(TESSERA_INT_DOT)
// For integer dot products: quad q of a chunk as 4 small integers n (one per byte, two's
// complement) and its affine map (A, B), value = A * n + B. Every type but F32/F16/BF16.
#if defined(DTYPE_Q4_0) || defined(DTYPE_Q4_1)
uint DQ(quad_packed)(Chunk ch, uint q) { return (DQ(word_at)(ch.at + 4u * (q & 3u)) >> ((q >> 2) * 4u)) & 0x0f0f0f0fu; }
#elif defined(DTYPE_Q5_0)
uint DQ(quad_packed)(Chunk ch, uint q) {
  const uint hb = (ch.aux >> (4u * q)) & 15u;  // 5th bits of the 4 elements, to bit 4 of each byte
  const uint hi = ((hb & 1u) << 4) | ((hb & 2u) << 11) | ((hb & 4u) << 18) | ((hb & 8u) << 25);
  return ((DQ(word_at)(ch.at + 4u * (q & 3u)) >> ((q >> 2) * 4u)) & 0x0f0f0f0fu) | hi;
}
#elif defined(DTYPE_Q8_0)
uint DQ(quad_packed)(Chunk ch, uint q) { return DQ(word_at)(ch.at + 4u * q); }
#elif defined(DTYPE_Q4_K)
uint DQ(quad_packed)(Chunk ch, uint q) {
  return (WORDS[ch.at + 4u + (ch.aux >> 1) * 8u + q] >> ((ch.aux & 1u) * 4u)) & 0x0f0f0f0fu;
}
#elif defined(DTYPE_Q5_K)
uint DQ(quad_packed)(Chunk ch, uint q) {
  const uint s = ch.aux;
  return ((WORDS[ch.at + 12u + (s >> 1) * 8u + q] >> ((s & 1u) * 4u)) & 0x0f0f0f0fu) |
         (((WORDS[ch.at + 4u + q] >> s) & 0x01010101u) << 4);
}
#elif defined(DTYPE_Q6_K)
uint DQ(quad_packed)(Chunk ch, uint q) {
  const uint h = ch.aux >> 2, k = ch.aux & 3u;
  const uint lo = (DQ(word_at)(ch.at + h * 64u + 32u * (k & 1u) + 4u * q) >> ((k >> 1) * 4u)) & 0x0f0f0f0fu;
  const uint hi = (DQ(word_at)(ch.at + 128u + h * 32u + 4u * q) >> (2u * k)) & 0x03030303u;
  return lo | (hi << 4);
}
#endif
#if defined(DTYPE_Q6_K)
vec2 DQ(quad_affine)(Chunk ch, uint q) {
  const float a = q < 4u ? ch.d : ch.m;
  return vec2(a, -32.0 * a);
}
#else
vec2 DQ(quad_affine)(Chunk ch, uint q) { return vec2(ch.d, ch.m); }
#endif
#endif

// Quad q of chunk c of the row at byte offset `row`.
vec4 DQ(dequant4)(uint row, uint c, uint q) { return DQ(chunk_quad)(DQ(chunk_at)(row, c), q); }

#ifdef TESSERA_DQ_DEFAULT
#undef DQ
#undef TESSERA_DQ_DEFAULT
#endif
