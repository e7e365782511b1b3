// One tolerance table for kernel tests, by op kind: |gpu - ref| <= atol + rtol * |ref| for
// elementwise ops and norms (fp32 math, so only rounding and transcendental error remain).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

namespace tessera::test {

struct Tolerance {
  double atol;
  double rtol;
};

inline constexpr Tolerance kExact{0.0, 0.0};            // copies, add/mul/scale of f32
inline constexpr Tolerance kNorm{1e-6, 2e-5};           // rms_norm: reduction order differs
inline constexpr Tolerance kTranscendental{1e-6, 1e-5}; // tanh-based: GeGLU, soft-cap
inline constexpr Tolerance kDequant{1e-7, 1e-6};        // dequantization: FMA vs mul+add
// matmul: a k-long fp32 dot product summed in another order than the double reference. Sums
// that cancel to ~0 defeat rtol, and the rounding error grows ~sqrt(k) with O(1) inputs, so
// atol is per sqrt(k): use reduction_tolerance(kMatmul, k). At k = 15360 the bound is ~2e-3,
// so an error of 0.1 in a single product (one wrong weight element) still fails.
inline constexpr Tolerance kMatmul{1e-5, 1e-5};

// `t` with atol scaled by sqrt(k), for k-long reductions of O(1) inputs.
inline Tolerance reduction_tolerance(Tolerance t, double k) { return {t.atol * std::sqrt(k), t.rtol}; }

// Compares element by element; on failure reports the case, the first bad index and the count.
inline ::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& want,
                                            Tolerance tol, const std::string& what) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << what << ": size " << got.size() << " != " << want.size();
  std::size_t bad = 0, first = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double lim = tol.atol + tol.rtol * std::fabs(want[i]);
    const bool ok = std::fabs(double(got[i]) - want[i]) <= lim || (std::isnan(got[i]) && std::isnan(want[i]));
    if (!ok && bad++ == 0) first = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << bad << " of " << got.size() << " elements differ; first at "
                                       << first << ": got " << got[first] << ", want " << want[first];
}

}  // namespace tessera::test
