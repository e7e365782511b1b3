// Deterministic synthetic weights: every row of every tensor has its own random stream, seeded
// from (--seed, tensor name, row), so the bytes do not depend on the thread count and any row
// can be regenerated alone. Values are generated as f32, quantized, and streamed to the writer.
#pragma once
#include <cstdint>

#include "tools/factory/plan.h"

namespace tessera::gguf {
class Writer;
}

namespace tessera::factory {

class PairDesign;

// The f32 values of rows [row0, row0 + n_rows) of `t` (rows of t.ne[0] values) into `out`.
// Tensors with an Init::pair_* initializer need `design` (else tessera::Error).
void generate_rows(const TensorSpec& t, std::uint64_t seed, std::uint64_t row0, std::uint64_t n_rows, float* out,
                   const PairDesign* design = nullptr);

// Generates, quantizes to t.type and writes the whole tensor, `threads` rows at a time (0: all
// cores). The writer's current tensor must be `t`.
void write_tensor_data(gguf::Writer& w, const TensorSpec& t, std::uint64_t seed, unsigned threads,
                       const PairDesign* design = nullptr);

}  // namespace tessera::factory
