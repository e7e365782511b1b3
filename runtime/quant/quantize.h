// CPU quantizers: float rows to the ggml block layouts of engine/dtype.h (F32, F16, BF16,
// Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K). Round-to-nearest against a searched scale; the
// layouts are bit-exact with ggml's block_q* structs. Used by the model factory and by tests.
#pragma once
#include <cstdint>

#include "engine/dtype.h"

namespace tessera {

// Quantizes `n` floats of `src` into `dtype_bytes(t, n)` bytes at `dst`. `n` must be a multiple
// of t's block size; throws tessera::Error "[quantize] ..." otherwise.
void quantize_row(DType t, const float* src, void* dst, std::int64_t n);

// Quantizes `n_rows` rows of `n_cols` floats (row-major) into consecutive rows of type `t`;
// returns the bytes written.
std::uint64_t quantize_rows(DType t, const float* src, void* dst, std::int64_t n_rows,
                            std::int64_t n_cols);

}  // namespace tessera
