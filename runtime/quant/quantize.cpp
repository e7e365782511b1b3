// Quantizers for the ggml block formats. Each block type searches its scale(s) with a few
// candidate ranges refined by least squares, then rounds against the scale as stored (fp16 /
// 6-bit / int8), so the codes match what a dequantizer reconstructs.
#include "runtime/quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "engine/half.h"

namespace tessera {
namespace {

// Nearest code to v in [lo, hi] (halves away from zero); clamping first keeps the cast in range.
inline int round_clamp(float v, int lo, int hi) {
  v = std::min(std::max(v, static_cast<float>(lo)), static_cast<float>(hi));
  return static_cast<int>(v + (v >= 0.0f ? 0.5f : -0.5f));
}

inline void store_f16(std::uint8_t* p, float v) {
  const std::uint16_t h = fp32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

// Shrink factors tried for a block's range before the least-squares refit.
constexpr float kShrink[] = {1.0f, 0.96f, 0.92f, 0.88f, 0.84f, 0.80f, 0.75f, 0.70f};

// Best scale d for codes q in [qmin, qmax] with x ≈ d·q. The seed maps the value of largest
// magnitude onto qmin (the longer side), as ggml does; the sign of d follows that value.
float symmetric_scale(const float* x, int n, int qmin, int qmax) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(m)) m = x[i];
  if (m == 0.0f) return 0.0f;
  const float d0 = m / static_cast<float>(qmin);
  float best_d = d0, best_err = INFINITY;
  for (float f : kShrink) {
    const float d = d0 * f, id = 1.0f / d;
    double sxq = 0.0, sqq = 0.0;
    for (int i = 0; i < n; ++i) {
      const int q = round_clamp(x[i] * id, qmin, qmax);
      sxq += static_cast<double>(x[i]) * q;
      sqq += static_cast<double>(q) * q;
    }
    if (sqq <= 0.0) continue;
    const float dl = static_cast<float>(sxq / sqq);
    if (dl == 0.0f) continue;
    const float idl = 1.0f / dl;
    double err = 0.0;
    for (int i = 0; i < n; ++i) {
      const int q = round_clamp(x[i] * idl, qmin, qmax);
      const double e = x[i] - dl * static_cast<float>(q);
      err += e * e;
    }
    if (err < best_err) {
      best_err = static_cast<float>(err);
      best_d = dl;
    }
  }
  return best_d;
}

// Best (scale s >= 0, offset b) for codes q in [0, qmax] with x ≈ s·q + b. With
// `nonpositive_offset` the offset is kept <= 0 (K-quants store it as a subtracted min).
struct Affine {
  float s = 0.0f;
  float b = 0.0f;
};

Affine affine_fit(const float* x, int n, int qmax, bool nonpositive_offset) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (nonpositive_offset) lo = std::min(lo, 0.0f);
  if (hi <= lo) return {0.0f, lo};
  Affine best{(hi - lo) / static_cast<float>(qmax), lo};
  double best_err = INFINITY;
  for (float f : kShrink) {
    Affine a{(hi - lo) * f / static_cast<float>(qmax), lo + (hi - lo) * (1.0f - f) * 0.5f};
    if (nonpositive_offset) a.b = std::min(a.b, 0.0f);
    for (int iter = 0; iter < 1; ++iter) {  // quantize, then refit s and b by least squares
      if (a.s <= 0.0f) break;
      const float is = 1.0f / a.s;
      double sq = 0, sqq = 0, sx = 0, sxq = 0;
      for (int i = 0; i < n; ++i) {
        const int q = round_clamp((x[i] - a.b) * is, 0, qmax);
        sq += q;
        sqq += static_cast<double>(q) * q;
        sx += x[i];
        sxq += static_cast<double>(x[i]) * q;
      }
      const double det = n * sqq - sq * sq;
      if (det <= 0.0) break;
      Affine r{static_cast<float>((n * sxq - sq * sx) / det), static_cast<float>((sqq * sx - sq * sxq) / det)};
      if (nonpositive_offset && r.b > 0.0f) r = {static_cast<float>(sxq / sqq), 0.0f};
      if (r.s <= 0.0f) break;
      a = r;
    }
    if (a.s <= 0.0f) continue;
    const float is = 1.0f / a.s;
    double err = 0.0;
    for (int i = 0; i < n; ++i) {
      const int q = round_clamp((x[i] - a.b) * is, 0, qmax);
      const double e = x[i] - (a.s * static_cast<float>(q) + a.b);
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      best = a;
    }
  }
  return best;
}

// ---- 32-element block formats ----

void quantize_q8_0(const float* x, std::uint8_t* out) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float d = round_fp16(amax / 127.0f);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_f16(out, d);
  for (int i = 0; i < 32; ++i)
    out[2 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(round_clamp(x[i] * id, -127, 127)));
}

void quantize_q4_0(const float* x, std::uint8_t* out) {
  const float d = round_fp16(symmetric_scale(x, 32, -8, 7));
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_f16(out, d);
  for (int j = 0; j < 16; ++j) {
    const int q0 = round_clamp(x[j] * id, -8, 7) + 8;
    const int q1 = round_clamp(x[j + 16] * id, -8, 7) + 8;
    out[2 + j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
  }
}

void quantize_q4_1(const float* x, std::uint8_t* out) {
  const Affine a = affine_fit(x, 32, 15, false);
  const float d = round_fp16(a.s), m = round_fp16(a.b);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_f16(out, d);
  store_f16(out + 2, m);
  for (int j = 0; j < 16; ++j) {
    const int q0 = round_clamp((x[j] - m) * id, 0, 15);
    const int q1 = round_clamp((x[j + 16] - m) * id, 0, 15);
    out[4 + j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
  }
}

void quantize_q5_0(const float* x, std::uint8_t* out) {
  const float d = round_fp16(symmetric_scale(x, 32, -16, 15));
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_f16(out, d);
  std::uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const int q0 = round_clamp(x[j] * id, -16, 15) + 16;
    const int q1 = round_clamp(x[j + 16] * id, -16, 15) + 16;
    out[6 + j] = static_cast<std::uint8_t>((q0 & 0xF) | ((q1 & 0xF) << 4));
    qh |= static_cast<std::uint32_t>(q0 >> 4) << j;
    qh |= static_cast<std::uint32_t>(q1 >> 4) << (j + 16);
  }
  for (int b = 0; b < 4; ++b) out[2 + b] = static_cast<std::uint8_t>(qh >> (8 * b));  // little-endian u32
}

// ---- K-quants (super-blocks of 256) ----

// Packs 8 six-bit scales and mins into the 12 bytes of block_q4_K / block_q5_K.
void pack_scales_k4(const int* ls, const int* lm, std::uint8_t* s) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = static_cast<std::uint8_t>(ls[j]);
      s[j + 4] = static_cast<std::uint8_t>(lm[j]);
    } else {
      s[j + 4] = static_cast<std::uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] |= static_cast<std::uint8_t>((ls[j] >> 4) << 6);
      s[j] |= static_cast<std::uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

// Shared part of Q4_K / Q5_K: fits 8 sub-blocks of 32 with codes in [0, qmax], writes d, dmin and
// the packed scales at `out`, and returns the final codes in L[256].
void quantize_k_affine(const float* x, int qmax, std::uint8_t* out, int* L) {
  Affine sub[8];
  float max_s = 0.0f, max_m = 0.0f;
  for (int j = 0; j < 8; ++j) {
    sub[j] = affine_fit(x + 32 * j, 32, qmax, true);
    max_s = std::max(max_s, sub[j].s);
    max_m = std::max(max_m, -sub[j].b);
  }
  const float d = round_fp16(max_s / 63.0f), dmin = round_fp16(max_m / 63.0f);
  int ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = d > 0.0f ? round_clamp(sub[j].s / d, 0, 63) : 0;
    lm[j] = dmin > 0.0f ? round_clamp(-sub[j].b / dmin, 0, 63) : 0;
  }
  store_f16(out, d);
  store_f16(out + 2, dmin);
  pack_scales_k4(ls, lm, out + 4);
  for (int j = 0; j < 8; ++j) {
    const float s = d * static_cast<float>(ls[j]), m = dmin * static_cast<float>(lm[j]);
    const float is = s > 0.0f ? 1.0f / s : 0.0f;
    for (int i = 0; i < 32; ++i)
      L[32 * j + i] = s > 0.0f ? round_clamp((x[32 * j + i] + m) * is, 0, qmax) : 0;
  }
}

void quantize_q4_k(const float* x, std::uint8_t* out) {
  int L[256];
  quantize_k_affine(x, 15, out, L);
  std::uint8_t* qs = out + 16;
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l)
      qs[32 * c + l] = static_cast<std::uint8_t>(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
}

void quantize_q5_k(const float* x, std::uint8_t* out) {
  int L[256];
  quantize_k_affine(x, 31, out, L);
  std::uint8_t* qh = out + 16;
  std::uint8_t* qs = out + 48;
  std::memset(qh, 0, 32);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int a = L[64 * c + l], b = L[64 * c + 32 + l];
      qs[32 * c + l] = static_cast<std::uint8_t>((a & 0xF) | ((b & 0xF) << 4));
      qh[l] |= static_cast<std::uint8_t>(((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1)));
    }
  }
}

void quantize_q6_k(const float* x, std::uint8_t* out) {
  float sub[16];
  float max_abs = 0.0f, max_s = 0.0f;
  for (int j = 0; j < 16; ++j) {
    sub[j] = symmetric_scale(x + 16 * j, 16, -32, 31);
    if (std::fabs(sub[j]) > max_abs) {
      max_abs = std::fabs(sub[j]);
      max_s = sub[j];
    }
  }
  std::uint8_t* ql = out;
  std::uint8_t* qh = out + 128;
  auto* sc = reinterpret_cast<std::int8_t*>(out + 192);
  const float d = round_fp16(max_s / -128.0f);
  store_f16(out + 208, d);
  int L[256];
  for (int j = 0; j < 16; ++j) {
    const int ls = d != 0.0f ? round_clamp(sub[j] / d, -128, 127) : 0;
    sc[j] = static_cast<std::int8_t>(ls);
    const float s = d * static_cast<float>(ls);
    const float is = s != 0.0f ? 1.0f / s : 0.0f;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = (s != 0.0f ? round_clamp(x[16 * j + i] * is, -32, 31) : 0) + 32;
  }
  for (int n = 0; n < 2; ++n) {
    const int* Ln = L + 128 * n;
    std::uint8_t* ql_n = ql + 64 * n;
    std::uint8_t* qh_n = qh + 32 * n;
    for (int l = 0; l < 32; ++l) {
      const int q1 = Ln[l], q2 = Ln[l + 32], q3 = Ln[l + 64], q4 = Ln[l + 96];
      ql_n[l] = static_cast<std::uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
      ql_n[l + 32] = static_cast<std::uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
      qh_n[l] = static_cast<std::uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
    }
  }
}

using BlockFn = void (*)(const float*, std::uint8_t*);

BlockFn block_fn(DType t) {
  switch (t) {
    case DType::Q4_0: return quantize_q4_0;
    case DType::Q4_1: return quantize_q4_1;
    case DType::Q5_0: return quantize_q5_0;
    case DType::Q8_0: return quantize_q8_0;
    case DType::Q4_K: return quantize_q4_k;
    case DType::Q5_K: return quantize_q5_k;
    case DType::Q6_K: return quantize_q6_k;
    default: return nullptr;
  }
}

}  // namespace

void quantize_row(DType t, const float* src, void* dst, std::int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block_size != 0)
    throw Error("[quantize] " + std::string(info.name) + ": row of " + std::to_string(n) +
                " values is not a multiple of the block size " + std::to_string(info.block_size));
  auto* out = static_cast<std::uint8_t*>(dst);
  switch (t) {
    case DType::F32:
      std::memcpy(out, src, static_cast<std::size_t>(n) * sizeof(float));
      return;
    case DType::F16:
      for (std::int64_t i = 0; i < n; ++i) {
        const std::uint16_t h = fp32_to_fp16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case DType::BF16:
      for (std::int64_t i = 0; i < n; ++i) {
        const std::uint16_t h = fp32_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    default:
      break;
  }
  const BlockFn fn = block_fn(t);
  if (fn == nullptr) throw Error("[quantize] unsupported type " + std::string(info.name));
  const std::int64_t blocks = n / info.block_size;
  for (std::int64_t b = 0; b < blocks; ++b) fn(src + b * info.block_size, out + b * info.block_bytes);
}

std::uint64_t quantize_rows(DType t, const float* src, void* dst, std::int64_t n_rows, std::int64_t n_cols) {
  const std::uint64_t row_bytes = dtype_bytes(t, static_cast<std::uint64_t>(n_cols));
  auto* out = static_cast<std::uint8_t*>(dst);
  for (std::int64_t r = 0; r < n_rows; ++r) quantize_row(t, src + r * n_cols, out + r * row_bytes, n_cols);
  return row_bytes * static_cast<std::uint64_t>(n_rows);
}

}  // namespace tessera
