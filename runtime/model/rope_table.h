// RoPE of one layer kind (spec §2.3), shared by the target's forward and the MTP drafter: per pair
// j the inverse frequency, and the (cos, sin) rows the head_norm_rope kernel reads.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/buffer.h"

namespace tessera {

struct RopeTable {
  std::vector<double> inv_freq;  // [n_rot]
  std::uint32_t n_rot = 0;       // rotating pairs (trailing pairs that stay the identity are dropped)
};

// base^(-2j/head_dim) / freq_factors[j] (nullptr: 1) for j < head_dim / 2; pairs whose angle stays
// below 1e-12 rad over n_ctx positions are dropped from the end (the global layers' 1e30 factors).
RopeTable make_rope_table(double base, std::uint32_t head_dim, const std::vector<float>* freq_factors,
                          std::uint32_t n_ctx);

// Writes [tokens, n_rot, 2] (cos, sin) for positions pos0 .. into the host-visible buffer b.
void fill_rope(Buffer& b, const RopeTable& r, std::uint32_t pos0, std::uint32_t tokens);

}  // namespace tessera
