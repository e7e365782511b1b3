#include "tools/factory/recipe.h"

#include <cctype>

#include "engine/error.h"

namespace tessera::factory {
namespace {

// llama_ftype values written to general.file_type.
constexpr std::uint32_t kFtypeF32 = 0, kFtypeF16 = 1, kFtypeQ4_0 = 2, kFtypeQ4_1 = 3, kFtypeQ8_0 = 7,
                        kFtypeQ5_0 = 8, kFtypeQ4_K_S = 14, kFtypeQ4_K_M = 15, kFtypeQ5_K_S = 16,
                        kFtypeQ5_K_M = 17, kFtypeQ6_K = 18, kFtypeBF16 = 32;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

TypeChoice parse_type_choice(std::string_view name) {
  const std::string up = upper(name);
  TypeChoice c;
  c.name = up;
  if (up == "Q4_K_M" || up == "Q5_K_M") {
    c.base = up == "Q4_K_M" ? DType::Q4_K : DType::Q5_K;
    c.mixed = true;
    c.file_type = up == "Q4_K_M" ? kFtypeQ4_K_M : kFtypeQ5_K_M;
    return c;
  }
  const std::optional<DType> t = parse_dtype(up);
  if (!t) {
    std::string all;
    for (const std::string& n : type_choice_names()) all += (all.empty() ? "" : ", ") + n;
    throw Error("[factory] unknown --type '" + std::string(name) + "' (expected one of " + all + ")");
  }
  c.base = *t;
  switch (*t) {
    case DType::F32: c.file_type = kFtypeF32; break;
    case DType::F16: c.file_type = kFtypeF16; break;
    case DType::BF16: c.file_type = kFtypeBF16; break;
    case DType::Q4_0: c.file_type = kFtypeQ4_0; break;
    case DType::Q4_1: c.file_type = kFtypeQ4_1; break;
    case DType::Q5_0: c.file_type = kFtypeQ5_0; break;
    case DType::Q8_0: c.file_type = kFtypeQ8_0; break;
    case DType::Q4_K: c.file_type = kFtypeQ4_K_S; break;  // closest llama ftype for pure Q4_K
    case DType::Q5_K: c.file_type = kFtypeQ5_K_S; break;
    case DType::Q6_K: c.file_type = kFtypeQ6_K; break;
  }
  return c;
}

std::vector<std::string> type_choice_names() {
  return {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K", "Q5_K", "Q6_K", "Q4_K_M", "Q5_K_M"};
}

bool use_more_bits(std::uint32_t i, std::uint32_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i >= n / 8 && (i - n / 8) % 3 == 2);
}

DType matrix_type(const TypeChoice& choice, MatrixRole role, std::uint32_t index, std::uint32_t count) {
  if (!choice.mixed) return choice.base;
  switch (role) {
    case MatrixRole::token_embd: return DType::Q6_K;  // tied output head: llama.cpp gives it Q6_K
    case MatrixRole::attn_v:
    case MatrixRole::ffn_down: return use_more_bits(index, count) ? DType::Q6_K : choice.base;
    default: return choice.base;
  }
}

DType fallback_type(DType wanted, std::uint64_t ne0) {
  DType t = wanted;
  if (ne0 % kQK_K != 0) {
    switch (t) {
      case DType::Q4_K: t = DType::Q5_0; break;
      case DType::Q5_K:
      case DType::Q6_K: t = DType::Q8_0; break;
      default: break;
    }
  }
  if (dtype_info(t).block_size > 1 && ne0 % dtype_info(t).block_size != 0) t = DType::F16;
  return t;
}

}  // namespace tessera::factory
