// Gemma 4 tokenizer (spec §8.4): SentencePiece-style BPE over UTF-8 code points read from GGUF
// tokenizer.ggml.* metadata, with byte fallback, newline-run splitting and literal special tokens.
// Errors: tessera::Error "[tokenizer] <file>: key '<key>' ...".
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/gguf/gguf.h"

namespace tessera {

// llama.cpp token types (tokenizer.ggml.token_type).
enum class TokenType : std::int32_t {
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

class Tokenizer {
 public:
  // Heterogeneous string hash so maps keyed by std::string accept std::string_view lookups.
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using StringMap = std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>>;

  // Reads tokenizer.ggml.{model,tokens,scores,token_type,merges,*_token_id,add_bos_token}.
  // model must be "gemma4", "gemma" or "llama" (SentencePiece-style BPE with merges).
  static Tokenizer from_gguf(const gguf::File& file);
  // Same from plain arrays (tests); `name` stands in for the file in messages. scores may be
  // empty; merges are "left right" strings, lowest rank first.
  static Tokenizer from_vocab(std::vector<std::string> tokens, std::vector<float> scores,
                              std::vector<std::int32_t> types, const std::vector<std::string>& merges,
                              const std::string& name = "<memory>");

  // Text -> ids. add_bos prepends bos_id() (when the vocabulary has one). User-defined tokens
  // written literally are always matched (as HF added tokens and llama.cpp do); control and
  // unknown tokens ("<bos>", "<|turn>", "<|image|>", "<unk>") only with parse_special. Longest
  // match wins.
  std::vector<std::int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // Ids -> text: "▁" becomes a space, byte tokens their raw byte; control and unknown tokens
  // are dropped unless render_special. Throws for ids out of range.
  std::string decode(std::span<const std::int32_t> ids, bool render_special = false) const;
  // The bytes one token contributes to decode() (may be a partial UTF-8 sequence).
  std::string token_to_piece(std::int32_t id, bool render_special = false) const;

  std::size_t size() const { return tokens_.size(); }
  const std::string& token(std::int32_t id) const;     // raw vocabulary text
  TokenType type(std::int32_t id) const;
  float score(std::int32_t id) const;
  std::int32_t find(std::string_view text) const;       // id of an exact token, -1 if absent
  std::size_t n_merges() const { return merge_rank_.size(); }

  std::int32_t bos_id() const { return bos_; }  // -1: absent
  std::int32_t eos_id() const { return eos_; }
  std::int32_t eot_id() const { return eot_; }
  std::int32_t pad_id() const { return pad_; }
  std::int32_t unk_id() const { return unk_; }
  bool add_bos() const { return add_bos_; }       // tokenizer.ggml.add_bos_token (default true)
  bool is_eog(std::int32_t id) const { return id >= 0 && (id == eos_ || id == eot_); }

 private:
  struct Merge {
    std::int32_t rank = 0;    // index in tokenizer.ggml.merges
    std::int32_t result = 0;  // id of left+right
  };
  // Pair key: left id in the high half, right id in the low half.
  static std::uint64_t pair_key(std::int32_t l, std::int32_t r) {
    return (std::uint64_t{static_cast<std::uint32_t>(l)} << 32) | static_cast<std::uint32_t>(r);
  }

  void build(const std::vector<std::string>& merges);
  [[noreturn]] void fail(const std::string& what) const;
  // Appends the ids of one piece of plain text (no special tokens inside).
  void encode_text(std::string_view text, std::vector<std::int32_t>& out) const;
  // BPE of one normalised run ("▁" for spaces, no newline mixing).
  void encode_bpe(std::string_view run, std::vector<std::int32_t>& out) const;
  void emit_bytes(std::string_view bytes, std::vector<std::int32_t>& out) const;
  // Longest special token at text[pos] allowed under parse_special; -1 when none.
  std::int32_t match_special(std::string_view text, std::size_t pos, bool parse_special,
                             std::size_t& len) const;

  std::string name_;                           // file name for messages
  std::vector<std::string> tokens_;            // [n_vocab]
  std::vector<float> scores_;                  // [n_vocab]
  std::vector<TokenType> types_;               // [n_vocab]
  StringMap token_ids_;                        // text -> id (first id for duplicates)
  std::unordered_map<std::uint64_t, Merge> merge_rank_;  // pair_key(l, r) -> merge
  std::array<std::int32_t, 256> byte_ids_{};   // <0xXX> ids, -1 if absent
  StringMap specials_;                         // control, user-defined, unknown text -> id
  std::vector<std::size_t> special_lengths_;   // distinct lengths, longest first
  std::array<bool, 256> special_first_{};      // first bytes of special tokens
  std::int32_t bos_ = -1, eos_ = -1, eot_ = -1, pad_ = -1, unk_ = -1;
  bool add_bos_ = true;
};

// Streaming decoder: feed ids one by one, get back only complete UTF-8; a multi-byte character
// split across byte tokens is held until its last byte arrives.
class Detokenizer {
 public:
  explicit Detokenizer(const Tokenizer& tok, bool render_special = false)
      : tok_(&tok), render_special_(render_special) {}
  // Text that became complete with `id` (possibly "").
  std::string push(std::int32_t id);
  // Whatever is still held (an incomplete sequence at the end of the stream), raw.
  std::string flush();
  void reset() { pending_.clear(); }

 private:
  const Tokenizer* tok_;
  bool render_special_ = false;
  std::string pending_;  // bytes not yet returned
};

// Bytes of `s` that form complete UTF-8 sequences from the start, leaving out only a trailing
// lead byte (plus continuations) still waiting for its remaining bytes.
std::size_t utf8_complete_prefix(std::string_view s);

}  // namespace tessera
