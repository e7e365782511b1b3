// Tensor type selection: one type for every matrix ("F16", "Q8_0", "Q4_K", ...) or a mixed
// K-quant recipe ("Q4_K_M", "Q5_K_M") chosen per tensor the way llama.cpp's quantizer does.
// Norms, scalars and rope factors are always F32.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dtype.h"

namespace tessera::factory {

// What a matrix is, for the recipe.
enum class MatrixRole {
  token_embd,    // token embedding (tied output head)
  attn_q, attn_k, attn_v, attn_output,
  ffn_gate, ffn_up, ffn_down,
  projection,    // drafter pre/post projections
  other,
};

struct TypeChoice {
  std::string name;             // as given: "F16", "Q4_K_M", ...
  DType base = DType::F16;      // type of ordinary matrices
  bool mixed = false;           // K-quant _M recipe (token_embd and some ffn_down/attn_v get Q6_K)
  std::uint32_t file_type = 1;  // general.file_type (llama_ftype)
};

// Parses a --type value: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q4_K, Q5_K, Q6_K, Q4_K_M,
// Q5_K_M (case-insensitive); throws tessera::Error "[factory] ..." otherwise.
TypeChoice parse_type_choice(std::string_view name);
std::vector<std::string> type_choice_names();

// llama.cpp's use_more_bits(i, n): the first and last eighth, and every third in between.
bool use_more_bits(std::uint32_t i, std::uint32_t n);

// Type of a matrix before the block-size fallback. `index`/`count` locate it among the tensors
// of its role in the file (layer index for ffn_down, attn_v index for attn_v).
DType matrix_type(const TypeChoice& choice, MatrixRole role, std::uint32_t index, std::uint32_t count);

// The type actually stored for a row of `ne0` values: K-quants need ne0 % 256 == 0 and fall back
// like llama.cpp (Q4_K -> Q5_0, Q5_K and Q6_K -> Q8_0; there is no Q5_1 in tessera), and
// 32-blocks need ne0 % 32 == 0 (else F16).
DType fallback_type(DType wanted, std::uint64_t ne0);

}  // namespace tessera::factory
