// Block dequantizers, one function per ggml layout. Each reads one block through a byte
// pointer (blocks are 2-byte aligned at best inside a GGUF, so fp16 fields go through memcpy).
#include "runtime/quant/dequant.h"

#include <cstring>
#include <string>

#include "engine/error.h"
#include "engine/half.h"

namespace tessera {
namespace {

using u8 = std::uint8_t;

float load_f16(const u8* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_fp32(h);
}

// Q4_0: d f16, qs[16]: element j (0..15) is the low nibble of qs[j], element j+16 the high one;
// x = (q - 8) * d.
void block_q4_0(const u8* b, float* y) {
  const float d = load_f16(b);
  const u8* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0x0f) - 8) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

// Q4_1: d f16, m f16, qs[16] (nibbles as Q4_0); x = q * d + m.
void block_q4_1(const u8* b, float* y) {
  const float d = load_f16(b);
  const float m = load_f16(b + 2);
  const u8* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(qs[j] & 0x0f) * d + m;
    y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

// Q5_0: d f16, qh u32 (bit j = 5th bit of element j), qs[16] (low 4 bits as Q4_0); x = (q - 16) * d.
void block_q5_0(const u8* b, float* y) {
  const float d = load_f16(b);
  std::uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const u8* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
    const int hi = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    y[j] = static_cast<float>(lo - 16) * d;
    y[j + 16] = static_cast<float>(hi - 16) * d;
  }
}

// Q8_0: d f16, qs[32] int8; x = q * d.
void block_q8_0(const u8* b, float* y) {
  const float d = load_f16(b);
  const auto* qs = reinterpret_cast<const std::int8_t*>(b + 2);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

// The 12-byte K-quant scale block: 8 six-bit scales and 8 six-bit mins. Sub-blocks 0..3 keep
// their low 6 bits in bytes 0..3 (scales) and 4..7 (mins); sub-blocks 4..7 keep their low 4 bits
// in the nibbles of bytes 8..11 (scale low nibble, min high nibble) and their top 2 bits in the
// top 2 bits of bytes 0..3 (scales) and 4..7 (mins).
void k_scale_min(int j, const u8* s, int& scale, int& min) {
  if (j < 4) {
    scale = s[j] & 63;
    min = s[j + 4] & 63;
  } else {
    scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K and Q5_K: d f16, dmin f16, scales[12], then the quants. 256 elements in 8 sub-blocks of
// 32; x = d*scale*q - dmin*min with sub-block j's scale and min. quant(j, l) is the q of element
// 32j + l.
template <class Quant>
void block_k_scale_min(const u8* b, float* y, Quant quant) {
  const float d = load_f16(b);
  const float dmin = load_f16(b + 2);
  const u8* sc = b + 4;
  for (int j = 0; j < 8; ++j) {
    int scale, min;
    k_scale_min(j, sc, scale, min);
    const float ds = d * static_cast<float>(scale), dm = dmin * static_cast<float>(min);
    for (int l = 0; l < 32; ++l) y[32 * j + l] = ds * static_cast<float>(quant(j, l)) - dm;
  }
}

// The 4-bit part of a Q4_K/Q5_K quant: sub-blocks 2c and 2c+1 share qs[32c .. 32c+31], low
// nibbles for 2c and high nibbles for 2c+1.
int k_nibble(const u8* qs, int j, int l) {
  const u8 q = qs[32 * (j / 2) + l];
  return j % 2 ? q >> 4 : q & 0x0f;
}

// Q4_K: d f16, dmin f16, scales[12], qs[128].
void block_q4_k(const u8* b, float* y) {
  const u8* qs = b + 16;
  block_k_scale_min(b, y, [qs](int j, int l) { return k_nibble(qs, j, l); });
}

// Q5_K: d, dmin, scales[12], qh[32], qs[128]. As Q4_K plus a 5th bit: bit j of qh[l] belongs to
// element 32j + l.
void block_q5_k(const u8* b, float* y) {
  const u8* qh = b + 16;
  const u8* qs = b + 48;
  block_k_scale_min(b, y, [qh, qs](int j, int l) { return k_nibble(qs, j, l) | (((qh[l] >> j) & 1) << 4); });
}

// Q6_K: ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] int8, d f16. Two halves of 128
// elements; half h uses ql[64h ..], qh[32h ..], scales[8h ..]. Within a half, for l in 0..31:
// element l      = ql[l] low nibble    | qh[l] bits 0-1, scale is
// element l + 32 = ql[l+32] low nibble | qh[l] bits 2-3, scale is+2
// element l + 64 = ql[l] high nibble   | qh[l] bits 4-5, scale is+4
// element l + 96 = ql[l+32] high nibble| qh[l] bits 6-7, scale is+6   (is = l / 16)
// x = d * scale * (q - 32).
void block_q6_k(const u8* b, float* y) {
  const u8* ql_all = b;
  const u8* qh_all = b + 128;
  const auto* sc_all = reinterpret_cast<const std::int8_t*>(b + 192);
  const float d = load_f16(b + 208);
  for (int h = 0; h < 2; ++h) {
    const u8* ql = ql_all + 64 * h;
    const u8* qh = qh_all + 32 * h;
    const std::int8_t* sc = sc_all + 8 * h;
    float* o = y + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      o[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q0);
      o[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q1);
      o[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q2);
      o[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q3);
    }
  }
}

template <void (*Block)(const u8*, float*)>
void blocks(const u8* src, float* dst, std::int64_t n_blocks, std::uint32_t block_bytes, std::uint32_t block_size) {
  for (std::int64_t i = 0; i < n_blocks; ++i) Block(src + i * block_bytes, dst + i * block_size);
}

}  // namespace

void dequantize_row(DType t, const void* src, float* dst, std::int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block_size != 0)
    throw Error("[dequant] " + std::string(info.name) + ": element count " + std::to_string(n) +
                " is not a non-negative multiple of the block size " + std::to_string(info.block_size));
  const auto* s = static_cast<const u8*>(src);
  const std::int64_t nb = n / info.block_size;
  const std::uint32_t bb = info.block_bytes, bs = info.block_size;
  switch (t) {
    case DType::F32: if (n) std::memcpy(dst, s, static_cast<std::size_t>(n) * 4); return;
    case DType::F16:
      for (std::int64_t i = 0; i < n; ++i) dst[i] = load_f16(s + 2 * i);
      return;
    case DType::BF16:
      for (std::int64_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = bf16_to_fp32(h);
      }
      return;
    case DType::Q4_0: return blocks<block_q4_0>(s, dst, nb, bb, bs);
    case DType::Q4_1: return blocks<block_q4_1>(s, dst, nb, bb, bs);
    case DType::Q5_0: return blocks<block_q5_0>(s, dst, nb, bb, bs);
    case DType::Q8_0: return blocks<block_q8_0>(s, dst, nb, bb, bs);
    case DType::Q4_K: return blocks<block_q4_k>(s, dst, nb, bb, bs);
    case DType::Q5_K: return blocks<block_q5_k>(s, dst, nb, bb, bs);
    case DType::Q6_K: return blocks<block_q6_k>(s, dst, nb, bb, bs);
  }
  throw Error("[dequant] unsupported type id " + std::to_string(static_cast<std::uint32_t>(t)));
}

std::vector<float> dequantize(DType t, std::span<const std::byte> src, std::int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block_size != 0)
    throw Error("[dequant] " + std::string(info.name) + ": element count " + std::to_string(n) +
                " is not a non-negative multiple of the block size " + std::to_string(info.block_size));
  const std::uint64_t need = dtype_bytes(t, static_cast<std::uint64_t>(n));
  if (src.size() < need)
    throw Error("[dequant] " + std::string(info.name) + ": " + std::to_string(n) + " elements need " +
                std::to_string(need) + " bytes but the buffer holds " + std::to_string(src.size()));
  std::vector<float> out(static_cast<std::size_t>(n));
  dequantize_row(t, src.data(), out.data(), n);
  return out;
}

}  // namespace tessera
