// Plain scalar CPU references for the kernels, written from the Gemma 4 spec, not from the
// shaders. Double accumulation where the math is a reduction.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <vector>

#include "engine/dtype.h"
#include "runtime/quant/dequant.h"

namespace tessera::ref {

inline std::vector<float> rms_norm(const std::vector<float>& x, const std::vector<float>* w, std::uint32_t rows,
                                   std::uint32_t n, float eps) {
  std::vector<float> y(x.size());
  for (std::uint32_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (std::uint32_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
    const double inv = 1.0 / std::sqrt(ss / n + eps);
    for (std::uint32_t i = 0; i < n; ++i) y[r * n + i] = float(x[r * n + i] * inv * (w ? (*w)[i] : 1.0f));
  }
  return y;
}

inline float gelu_tanh(float x) {
  const double xd = x;
  return float(0.5 * xd * (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (xd + 0.044715 * xd * xd * xd))));
}

// One Q8_0 block as ggml quantises it: d = max|x| / 127, q = round(x / d) (half away from zero).
struct Q8Block {
  float d = 0;
  std::int8_t q[32] = {};
};
inline Q8Block quantize_q8_0_block(const float* x) {
  Q8Block b;
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  b.d = amax / 127.0f;
  const float id = b.d > 0 ? 1.0f / b.d : 0.0f;
  for (int j = 0; j < 32; ++j) b.q[j] = static_cast<std::int8_t>(std::lround(x[j] * id));
  return b;
}

inline float softcap(float x, float cap) { return float(cap * std::tanh(double(x) / cap)); }

// y[t, r] = sum_i x[t, i] * W[r, i]: x [m, k] f32, W n packed rows of k elements of type t
// (dequantized by the CPU dequantizer), y [m, n]; double accumulation.
inline std::vector<float> matmul(DType t, const std::vector<std::byte>& w, const std::vector<float>& x,
                                 std::uint32_t m, std::uint32_t k, std::uint32_t n) {
  const std::uint64_t row_bytes = dtype_bytes(t, k);
  std::vector<float> y(std::size_t{m} * n), row(k);
  for (std::uint32_t r = 0; r < n; ++r) {
    dequantize_row(t, w.data() + r * row_bytes, row.data(), k);
    for (std::uint32_t i = 0; i < m; ++i) {
      double s = 0;
      for (std::uint32_t j = 0; j < k; ++j) s += double(x[std::size_t{i} * k + j]) * row[j];
      y[std::size_t{i} * n + r] = float(s);
    }
  }
  return y;
}

}  // namespace tessera::ref
