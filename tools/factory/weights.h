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

// The f32 values of rows [row0, row0 + n_rows) of `t` (rows of t.ne[0] values) into `out`.
void generate_rows(const TensorSpec& t, std::uint64_t seed, std::uint64_t row0, std::uint64_t n_rows, float* out);

// Generates, quantizes to t.type and writes the whole tensor, `threads` rows at a time (0: all
// cores). The writer's current tensor must be `t`.
void write_tensor_data(gguf::Writer& w, const TensorSpec& t, std::uint64_t seed, unsigned threads);

}  // namespace tessera::factory
