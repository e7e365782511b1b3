// Tokenizer construction from GGUF metadata, special-token matching, encode driver and decode.
// The BPE itself lives in bpe.cpp, the streaming decoder in detokenizer.cpp.
#include "runtime/tokenizer/tokenizer.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581 "▁"

// "<0x41>" -> 0x41; -1 when `s` is not a byte-token spelling.
int parse_byte_token(std::string_view s) {
  if (s.size() != 6 || s.substr(0, 3) != "<0x" || s[5] != '>') return -1;
  int v = 0;
  for (char c : s.substr(3, 2)) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return -1;
  }
  return v;
}

}  // namespace

void Tokenizer::fail(const std::string& what) const { throw Error("[tokenizer] " + name_ + ": " + what); }

Tokenizer Tokenizer::from_gguf(const gguf::File& file) {
  Tokenizer t;
  t.name_ = path_to_utf8(file.path());
  auto require = [&](std::string_view key) {
    if (!file.has(key)) t.fail("key '" + std::string(key) + "' is missing");
  };
  require("tokenizer.ggml.model");
  const std::string model = file.get_string("tokenizer.ggml.model");
  if (model != "gemma4" && model != "gemma" && model != "llama")
    t.fail("key 'tokenizer.ggml.model' is '" + model +
           "'; only SentencePiece-style BPE vocabularies (gemma4, gemma, llama) are supported");
  require("tokenizer.ggml.tokens");
  require("tokenizer.ggml.token_type");
  require("tokenizer.ggml.merges");
  t.tokens_ = file.get_string_array("tokenizer.ggml.tokens");
  const std::size_t n = t.tokens_.size();
  auto check_len = [&](std::string_view key, std::size_t len) {
    if (len != n)
      t.fail("key '" + std::string(key) + "' has " + std::to_string(len) +
             " entries but 'tokenizer.ggml.tokens' has " + std::to_string(n));
  };
  const std::vector<std::int64_t> types = file.get_int_array("tokenizer.ggml.token_type");
  check_len("tokenizer.ggml.token_type", types.size());
  t.types_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (types[i] < 1 || types[i] > 6)
      t.fail("key 'tokenizer.ggml.token_type' has type " + std::to_string(types[i]) + " for token " +
             std::to_string(i) + " (expected 1..6)");
    t.types_[i] = static_cast<TokenType>(types[i]);
  }
  if (file.has("tokenizer.ggml.scores")) {
    const std::vector<double> scores = file.get_float_array("tokenizer.ggml.scores");
    check_len("tokenizer.ggml.scores", scores.size());
    t.scores_.assign(scores.begin(), scores.end());
  } else {
    t.scores_.assign(n, 0.0f);
  }
  auto id = [&](const char* key, std::int32_t& out) {
    if (!file.has(key)) return;
    const std::uint64_t v = file.get_uint(key);
    if (v >= n) t.fail("key '" + std::string(key) + "' is " + std::to_string(v) + " but the vocabulary has " + std::to_string(n) + " tokens");
    out = static_cast<std::int32_t>(v);
  };
  id("tokenizer.ggml.bos_token_id", t.bos_);
  id("tokenizer.ggml.eos_token_id", t.eos_);
  id("tokenizer.ggml.eot_token_id", t.eot_);
  id("tokenizer.ggml.padding_token_id", t.pad_);
  id("tokenizer.ggml.unknown_token_id", t.unk_);
  if (file.has("tokenizer.ggml.add_bos_token")) t.add_bos_ = file.get_bool("tokenizer.ggml.add_bos_token");
  t.build(file.get_string_array("tokenizer.ggml.merges"));
  return t;
}

Tokenizer Tokenizer::from_vocab(std::vector<std::string> tokens, std::vector<float> scores,
                                std::vector<std::int32_t> types, const std::vector<std::string>& merges,
                                const std::string& name) {
  Tokenizer t;
  t.name_ = name;
  const std::size_t n = tokens.size();
  t.tokens_ = std::move(tokens);
  if (scores.empty()) scores.assign(n, 0.0f);
  if (scores.size() != n || types.size() != n)
    t.fail("scores/token_type have " + std::to_string(scores.size()) + "/" + std::to_string(types.size()) +
           " entries but there are " + std::to_string(n) + " tokens");
  t.scores_ = std::move(scores);
  t.types_.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (types[i] < 1 || types[i] > 6) t.fail("token " + std::to_string(i) + " has type " + std::to_string(types[i]));
    t.types_[i] = static_cast<TokenType>(types[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& s = t.tokens_[i];
    const auto id = static_cast<std::int32_t>(i);
    if (s == "<bos>") t.bos_ = id;
    else if (s == "<eos>") t.eos_ = id;
    else if (s == "<pad>") t.pad_ = id;
    else if (s == "<unk>") t.unk_ = id;
    else if (s == "<turn|>") t.eot_ = id;
  }
  t.build(merges);
  return t;
}

// Builds the lookup maps once: text -> id, byte tokens, special tokens, merge ranks.
void Tokenizer::build(const std::vector<std::string>& merges) {
  if (tokens_.empty()) fail("key 'tokenizer.ggml.tokens' is empty");
  const std::size_t n = tokens_.size();
  token_ids_.reserve(n);
  byte_ids_.fill(-1);
  special_first_.fill(false);
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = static_cast<std::int32_t>(i);
    const std::string& s = tokens_[i];
    token_ids_.emplace(s, id);
    if (types_[i] == TokenType::byte) {
      const int b = parse_byte_token(s);
      if (b < 0) fail("token " + std::to_string(i) + " '" + s + "' has type byte but is not <0xXX>");
      if (byte_ids_[static_cast<std::size_t>(b)] < 0) byte_ids_[static_cast<std::size_t>(b)] = id;
    }
    const TokenType t = types_[i];
    if ((t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) && !s.empty()) {
      specials_.emplace(s, id);
      special_first_[static_cast<unsigned char>(s[0])] = true;
      if (std::find(special_lengths_.begin(), special_lengths_.end(), s.size()) == special_lengths_.end())
        special_lengths_.push_back(s.size());
    }
  }
  std::sort(special_lengths_.begin(), special_lengths_.end(), std::greater<>());

  merge_rank_.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const std::string& m = merges[r];
    // Usually one space; if a token itself holds a space, take the split that names tokens.
    bool ok = false;
    for (std::size_t sp = m.find(' '); sp != std::string::npos && !ok; sp = m.find(' ', sp + 1)) {
      const std::string_view sv(m);
      const std::int32_t l = find(sv.substr(0, sp)), rt = find(sv.substr(sp + 1));
      if (l < 0 || rt < 0) continue;
      const std::int32_t res = find(std::string(sv.substr(0, sp)) + std::string(sv.substr(sp + 1)));
      if (res < 0) continue;
      merge_rank_.try_emplace(pair_key(l, rt), Merge{static_cast<std::int32_t>(r), res});
      ok = true;
    }
    if (!ok && m.find(' ') == std::string::npos)
      fail("key 'tokenizer.ggml.merges' entry " + std::to_string(r) + " '" + m + "' is not 'left right'");
    // A merge naming tokens absent from the vocabulary can never apply; it is skipped.
  }
}

const std::string& Tokenizer::token(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= tokens_.size())
    fail("token id " + std::to_string(id) + " is out of range [0, " + std::to_string(tokens_.size()) + ")");
  return tokens_[static_cast<std::size_t>(id)];
}

TokenType Tokenizer::type(std::int32_t id) const {
  (void)token(id);
  return types_[static_cast<std::size_t>(id)];
}

float Tokenizer::score(std::int32_t id) const {
  (void)token(id);
  return scores_[static_cast<std::size_t>(id)];
}

std::int32_t Tokenizer::find(std::string_view text) const {
  auto it = token_ids_.find(text);
  return it == token_ids_.end() ? -1 : it->second;
}

std::int32_t Tokenizer::match_special(std::string_view text, std::size_t pos, bool parse_special,
                                      std::size_t& len) const {
  if (!special_first_[static_cast<unsigned char>(text[pos])]) return -1;
  const std::size_t left = text.size() - pos;
  for (std::size_t l : special_lengths_) {
    if (l > left) continue;
    auto it = specials_.find(text.substr(pos, l));
    if (it == specials_.end()) continue;
    if (!parse_special && types_[static_cast<std::size_t>(it->second)] != TokenType::user_defined) continue;
    len = l;
    return it->second;
  }
  return -1;
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos && bos_ >= 0) out.push_back(bos_);
  std::size_t start = 0;  // start of the plain text not yet encoded
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t len = 0;
    const std::int32_t id = match_special(text, pos, parse_special, len);
    if (id < 0) {
      ++pos;
      continue;
    }
    encode_text(text.substr(start, pos - start), out);
    out.push_back(id);
    pos += len;
    start = pos;
  }
  encode_text(text.substr(start), out);
  return out;
}

void Tokenizer::encode_text(std::string_view text, std::vector<std::int32_t>& out) const {
  if (text.empty()) return;
  std::string norm;
  norm.reserve(text.size() + text.size() / 2);
  for (char c : text) {
    if (c == ' ') norm += kSpaceMark;
    else norm += c;
  }
  // Runs of newlines vs runs of anything else ([^\n]+|[\n]+).
  const std::string_view s(norm);
  for (std::size_t i = 0; i < s.size();) {
    const bool nl = s[i] == '\n';
    std::size_t j = i;
    while (j < s.size() && (s[j] == '\n') == nl) ++j;
    const std::string_view run = s.substr(i, j - i);
    const std::int32_t whole = nl ? find(run) : -1;
    if (whole >= 0) out.push_back(whole);
    else encode_bpe(run, out);
    i = j;
  }
}

std::string Tokenizer::token_to_piece(std::int32_t id, bool render_special) const {
  const std::string& s = token(id);
  switch (types_[static_cast<std::size_t>(id)]) {
    case TokenType::byte: return std::string(1, static_cast<char>(parse_byte_token(s)));
    case TokenType::control:
    case TokenType::unknown: return render_special ? s : std::string();
    default: break;
  }
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, kSpaceMark.size(), kSpaceMark) == 0) {
      out += ' ';
      i += kSpaceMark.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool render_special) const {
  std::string out;
  for (std::int32_t id : ids) out += token_to_piece(id, render_special);
  return out;
}

}  // namespace tessera
