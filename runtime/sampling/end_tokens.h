// When generation ends (spec §8.4): the model's end tokens, read from the tokenizer. Gemma 4
// files disagree on eos_token_id (1 in some, 106 in others; QAT files add eot_token_id 106), so
// the set is the union: tokenizer.ggml.eos_token_id, eot_token_id, and "<eos>" and "<turn|>"
// when the vocabulary has them. Gemma 4: {1, 106}.
#pragma once
#include <cstdint>
#include <vector>

namespace tessera {

class Tokenizer;

// Sorted, without duplicates.
std::vector<std::uint32_t> end_tokens(const Tokenizer& tok);

// A small set of token ids that stop generation.
class StopSet {
 public:
  StopSet() = default;
  explicit StopSet(std::vector<std::uint32_t> ids);  // any order, duplicates allowed
  static StopSet from_tokenizer(const Tokenizer& tok) { return StopSet(end_tokens(tok)); }

  bool is_end(std::uint32_t id) const;
  const std::vector<std::uint32_t>& ids() const { return ids_; }  // sorted, unique

 private:
  std::vector<std::uint32_t> ids_;
};

}  // namespace tessera
