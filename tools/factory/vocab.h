// Tokenizer metadata for factory files (spec §8.4): a synthetic Gemma 4-style BPE vocabulary of
// any size, or one imported from a Hugging Face tokenizer.json; written as tokenizer.ggml.*.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::gguf {
class Writer;
}

namespace tessera::factory {

// llama.cpp token types (tokenizer.ggml.token_type).
enum TokenType : std::int32_t {
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

struct Vocab {
  std::vector<std::string> tokens;   // [n_vocab]
  std::vector<float> scores;         // [n_vocab]; -1000 on control tokens
  std::vector<std::int32_t> types;   // [n_vocab] TokenType
  std::vector<std::string> merges;   // "left right", lowest rank first
  std::int32_t bos = -1, eos = -1, pad = -1, unk = -1, eot = -1, mask = -1;  // -1: absent
  std::vector<std::int32_t> suppress;  // tokenizer.ggml.suppress_tokens (<audio|>, <image|>)
  std::string chat_template;

  std::uint32_t size() const { return static_cast<std::uint32_t>(tokens.size()); }
  std::int32_t find(const std::string& text) const;  // -1 when absent
};

// A vocabulary of `n_vocab` tokens (>= 512) shaped like Gemma 4's: the special tokens of §8.4 at
// their real ids where they fit (multimodal markers that do not fit take the last 7 ids), byte
// tokens <0x00>..<0xFF> at 238..493, newline runs at 107..109, single characters, then BPE
// merges of lowercase n-grams ("▁t", "th", "▁th", ...) until the vocabulary is full.
Vocab synthetic_vocab(std::uint32_t n_vocab);

// Imports a Hugging Face tokenizer.json: model.vocab (token -> id), model.merges ("a b" strings
// or [a, b] pairs) and added_tokens (special -> control, others -> user-defined). The size is
// the largest id + 1; missing ids become unused "<unused_N>" tokens. A chat_template in a
// tokenizer_config.json next to it is used when present, else gemma4_chat_template().
// Throws tessera::Error "[factory] <path>: ..." on malformed input.
Vocab import_hf_tokenizer(const std::filesystem::path& path);

// The Gemma 4 chat template (Jinja) written to tokenizer.chat_template.
const std::string& gemma4_chat_template();

// Writes tokenizer.ggml.* and tokenizer.chat_template.
void write_tokenizer_metadata(gguf::Writer& w, const Vocab& v);

}  // namespace tessera::factory
