// CPU dequantizers: rows of any engine/dtype.h type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0,
// Q4_K, Q5_K, Q6_K; ggml block layouts) to f32. The reference the GPU kernels are tested
// against, and the path for small tensors (norms, rope factors) read on the host.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/dtype.h"

namespace tessera {

// Dequantizes `n` elements of type `t` from `src` (dtype_bytes(t, n) bytes, no alignment
// needed) into `dst` [n] f32. `n` must be a non-negative multiple of t's block size; throws
// tessera::Error "[dequant] ..." otherwise.
void dequantize_row(DType t, const void* src, float* dst, std::int64_t n);

// Dequantizes a whole buffer of `n` elements (e.g. gguf::File::data(tensor)) into a new vector;
// throws when `src` holds fewer than dtype_bytes(t, n) bytes.
std::vector<float> dequantize(DType t, std::span<const std::byte> src, std::int64_t n);

}  // namespace tessera
