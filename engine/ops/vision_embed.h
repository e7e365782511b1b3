// The two normalization passes of the encoder-free vision embedder (docs/gemma4-spec.md §4.2-4.3);
// its dense layer and projection are ordinary matmuls (ops/matmul.h). The runtime's projector
// (runtime/mm/mmproj.h) chains them: patch_norm -> matmul -> vision_norms -> matmul.
#pragma once
#include <cstdint>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"

namespace tessera::ops {

// Patchify + LayerNorm in one pass. image: [height, width, 3] f32 HWC, height and width multiples
// of patch_px; y: [patches, 3 * patch_px²] where patch p = gy * cols + gx (raster order) holds its
// pixels in CHW order (c * patch_px² + row * patch_px + col), LayerNorm'd with w, b ([3 * patch_px²]).
void patch_norm(Context& ctx, CommandList& cmd, const BufferRange& image, const BufferRange& w, const BufferRange& b,
                const BufferRange& y, std::uint32_t width, std::uint32_t height, std::uint32_t patch_px, float eps);

// Per row r (gx = r % cols, gy = r / cols) of x [rows, n]:
//   u = LayerNorm(x + bias) * w2 + b2 + pos[gx] + pos[pos_rows + gy];  z = LayerNorm(u) * w3 + b3
//   y = z * rsqrt(mean(z²) + eps_rms)
// vecs: [5, n] = bias, w2, b2, w3, b3; pos: [2 * pos_rows, n] (x table then y table); y: [rows, n]
// (must not alias x). Throws when a patch's grid position is outside the table.
void vision_norms(Context& ctx, CommandList& cmd, const BufferRange& x, const BufferRange& vecs,
                  const BufferRange& pos, const BufferRange& y, std::uint32_t rows, std::uint32_t cols,
                  std::uint32_t n, std::uint32_t pos_rows, float eps_ln, float eps_rms);

}  // namespace tessera::ops
