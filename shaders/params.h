// Push-constant blocks shared by the GLSL kernels and their C++ host code: one definition, read
// by both languages. Scalars only (4-byte uint/int/float), so std430 and C++ layouts agree; the
// engine also checks each size against the SPIR-V at pipeline creation.
#ifndef TESSERA_SHADER_PARAMS_H
#define TESSERA_SHADER_PARAMS_H

#ifdef __cplusplus
#include <cstdint>
namespace tessera::shader {
using uint = std::uint32_t;
#endif

// fill.comp: dst[i] = value for i < n (value as raw 32-bit pattern).
struct FillParams {
  uint n;
  uint value_bits;
};

#ifdef __cplusplus
static_assert(sizeof(FillParams) == 8);
}  // namespace tessera::shader
#endif

#endif  // TESSERA_SHADER_PARAMS_H
