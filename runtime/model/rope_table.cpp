#include "runtime/model/rope_table.h"

#include <cmath>

namespace tessera {

RopeTable make_rope_table(double base, std::uint32_t head_dim, const std::vector<float>* freq_factors,
                          std::uint32_t n_ctx) {
  RopeTable r;
  for (std::uint32_t j = 0; j < head_dim / 2; ++j) {
    double f = std::pow(base, -2.0 * j / head_dim);
    if (freq_factors) f /= (*freq_factors)[j];
    r.inv_freq.push_back(f);
  }
  // Trailing pairs whose angle stays below 1e-12 rad over the whole context are the identity in
  // f32 (the global layers' 1e30 rope_freqs factors): skip them.
  r.n_rot = head_dim / 2;
  while (r.n_rot > 0 && r.inv_freq[r.n_rot - 1] * n_ctx < 1e-12) --r.n_rot;
  r.inv_freq.resize(r.n_rot);
  return r;
}

void fill_rope(Buffer& b, const RopeTable& r, std::uint32_t pos0, std::uint32_t tokens) {
  if (r.n_rot == 0) return;
  auto* cs = reinterpret_cast<float*>(b.mapped().data());
  for (std::uint32_t t = 0; t < tokens; ++t)
    for (std::uint32_t j = 0; j < r.n_rot; ++j) {
      const double angle = double(pos0 + t) * r.inv_freq[j];
      cs[(std::size_t{t} * r.n_rot + j) * 2] = float(std::cos(angle));
      cs[(std::size_t{t} * r.n_rot + j) * 2 + 1] = float(std::sin(angle));
    }
  b.flush();
}

}  // namespace tessera
