// Plain scalar CPU references for the kernels, written from the Gemma 4 spec, not from the
// shaders. Double accumulation where the math is a reduction.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

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
  return float(0.5 * xd * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (xd + 0.044715 * xd * xd * xd))));
}

inline float softcap(float x, float cap) { return float(cap * std::tanh(double(x) / cap)); }

}  // namespace tessera::ref
