// Tensor element types: the GGML/GGUF type ids, their block layout and byte sizes.
// Shared by the GGUF reader, the CPU (de)quantizers and the GPU kernels' host side.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tessera {

// Values are the GGML type ids stored in GGUF tensor infos.
enum class DType : std::uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
};

struct DTypeInfo {
  DType type;
  std::string_view name;     // "Q4_K", as llama.cpp prints it
  std::uint32_t block_size;  // elements per block (1 for plain types)
  std::uint32_t block_bytes; // bytes per block
  bool quantized;
};

inline constexpr std::uint32_t kQK4_0 = 32, kQK4_1 = 32, kQK5_0 = 32, kQK8_0 = 32;
inline constexpr std::uint32_t kQK_K = 256;  // super-block of the K-quants

// Block sizes in bytes (ggml's block_q* structs).
inline constexpr std::uint32_t kBlockQ4_0 = 2 + 16;            // d, qs[16]
inline constexpr std::uint32_t kBlockQ4_1 = 2 + 2 + 16;        // d, m, qs[16]
inline constexpr std::uint32_t kBlockQ5_0 = 2 + 4 + 16;        // d, qh[4], qs[16]
inline constexpr std::uint32_t kBlockQ8_0 = 2 + 32;            // d, qs[32]
inline constexpr std::uint32_t kBlockQ4_K = 2 + 2 + 12 + 128;  // d, dmin, scales[12], qs[128]
inline constexpr std::uint32_t kBlockQ5_K = 2 + 2 + 12 + 32 + 128;  // d, dmin, scales, qh[32], qs
inline constexpr std::uint32_t kBlockQ6_K = 128 + 64 + 16 + 2;      // ql, qh, scales[16], d

inline constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "F32", 1, 4, false},
    {DType::F16, "F16", 1, 2, false},
    {DType::Q4_0, "Q4_0", kQK4_0, kBlockQ4_0, true},
    {DType::Q4_1, "Q4_1", kQK4_1, kBlockQ4_1, true},
    {DType::Q5_0, "Q5_0", kQK5_0, kBlockQ5_0, true},
    {DType::Q8_0, "Q8_0", kQK8_0, kBlockQ8_0, true},
    {DType::Q4_K, "Q4_K", kQK_K, kBlockQ4_K, true},
    {DType::Q5_K, "Q5_K", kQK_K, kBlockQ5_K, true},
    {DType::Q6_K, "Q6_K", kQK_K, kBlockQ6_K, true},
    {DType::BF16, "BF16", 1, 2, false},
};

// Info for a supported type id, or nullopt for ids tessera does not support.
constexpr std::optional<DTypeInfo> dtype_info(std::uint32_t id) {
  for (const DTypeInfo& i : kDTypes)
    if (static_cast<std::uint32_t>(i.type) == id) return i;
  return std::nullopt;
}

constexpr const DTypeInfo& dtype_info(DType t) {
  for (const DTypeInfo& i : kDTypes)
    if (i.type == t) return i;
  return kDTypes[0];  // unreachable for valid enum values
}

constexpr std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Parses "q4_k" / "Q4_K" / "f16" ...; nullopt when unknown.
std::optional<DType> parse_dtype(std::string_view name);

// Bytes of `n` elements of type `t`; n must be a multiple of the block size.
constexpr std::uint64_t dtype_bytes(DType t, std::uint64_t n) {
  const DTypeInfo& i = dtype_info(t);
  return n / i.block_size * i.block_bytes;
}

}  // namespace tessera
