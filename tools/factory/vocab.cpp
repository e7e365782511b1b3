#include "tools/factory/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "engine/error.h"
#include "runtime/gguf/gguf_writer.h"
#include "engine/platform/console.h"

namespace tessera::factory {
namespace {

constexpr const char* kSpace = "\xE2\x96\x81";  // ▁ (U+2581), SentencePiece's space
constexpr float kControlScore = -1000.0f;
constexpr std::uint32_t kFirstByteToken = 238;  // <0x00> in Gemma 4

struct FixedToken {
  std::int32_t id;
  const char* text;
  TokenType type;
};

// Spec §8.4: the ids every Gemma 4 vocabulary has.
constexpr FixedToken kFixed[] = {
    {0, "<pad>", kTokenControl},           {1, "<eos>", kTokenControl},
    {2, "<bos>", kTokenControl},           {3, "<unk>", kTokenUnknown},
    {4, "<mask>", kTokenControl},          {46, "<|tool>", kTokenUserDefined},
    {47, "<tool|>", kTokenUserDefined},    {48, "<|tool_call>", kTokenUserDefined},
    {49, "<tool_call|>", kTokenUserDefined}, {50, "<|tool_response>", kTokenUserDefined},
    {51, "<tool_response|>", kTokenUserDefined}, {52, "<|\"|>", kTokenUserDefined},
    {98, "<|think|>", kTokenControl},      {100, "<|channel>", kTokenControl},
    {101, "<channel|>", kTokenControl},    {105, "<|turn>", kTokenControl},
    {106, "<turn|>", kTokenControl},       {107, "\n", kTokenNormal},
    {108, "\n\n", kTokenNormal},           {109, "\n\n\n", kTokenNormal},
};

// Multimodal markers: at their real ids in a full vocabulary, else on the last 7 ids.
constexpr FixedToken kMultimodal[] = {
    {255999, "<|image>", kTokenControl},  {256000, "<|audio>", kTokenControl},
    {258880, "<|image|>", kTokenControl}, {258881, "<|audio|>", kTokenControl},
    {258882, "<image|>", kTokenControl},  {258883, "<audio|>", kTokenControl},
    {258884, "<|video|>", kTokenControl},
};

std::string byte_token(unsigned b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

bool is_byte_token(const std::string& s) {
  return s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && std::isxdigit(static_cast<unsigned char>(s[3])) &&
         std::isxdigit(static_cast<unsigned char>(s[4]));
}

// Calls emit(text, merge) for single characters, then for lowercase n-grams built by merges
// (merge empty for single characters), until emit returns false.
template <typename Emit>
void generate_normal_tokens(Emit&& emit) {
  if (!emit(std::string(kSpace), std::string())) return;
  for (int c = 0x21; c <= 0x7e; ++c)
    if (!emit(std::string(1, static_cast<char>(c)), std::string())) return;
  for (int len = 1; len < 8; ++len) {
    std::uint64_t count = 1;
    for (int i = 0; i < len; ++i) count *= 26;
    for (int spaced = 0; spaced < 2; ++spaced) {
      if (len == 1 && !spaced) continue;  // single letters are characters already
      for (std::uint64_t idx = 0; idx < count; ++idx) {
        std::string word(static_cast<std::size_t>(len), 'a');
        std::uint64_t v = idx;
        for (int i = len - 1; i >= 0; --i, v /= 26) word[static_cast<std::size_t>(i)] = static_cast<char>('a' + v % 26);
        const std::string prefix = spaced ? std::string(kSpace) : std::string();
        const std::string left = prefix + word.substr(0, word.size() - 1);
        const std::string right = word.substr(word.size() - 1);
        if (!emit(left + right, left + " " + right)) return;
      }
    }
  }
}

void fail_json(const std::filesystem::path& p, const std::string& what) {
  throw Error("[factory] " + path_to_utf8(p) + ": " + what);
}

}  // namespace

std::int32_t Vocab::find(const std::string& text) const {
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] == text) return static_cast<std::int32_t>(i);
  return -1;
}

Vocab synthetic_vocab(std::uint32_t n_vocab) {
  if (n_vocab < 512)
    throw Error("[factory] a synthetic vocabulary needs at least 512 tokens, got " + std::to_string(n_vocab));
  Vocab v;
  v.tokens.assign(n_vocab, std::string());
  v.types.assign(n_vocab, 0);
  auto put = [&](std::uint32_t id, std::string text, TokenType type) {
    v.tokens[id] = std::move(text);
    v.types[id] = type;
  };
  for (const FixedToken& f : kFixed) put(static_cast<std::uint32_t>(f.id), f.text, f.type);
  for (unsigned b = 0; b < 256; ++b) put(kFirstByteToken + b, byte_token(b), kTokenByte);
  const std::uint32_t n_mm = static_cast<std::uint32_t>(std::size(kMultimodal));
  for (std::uint32_t k = 0; k < n_mm; ++k) {
    const FixedToken& f = kMultimodal[k];
    const std::uint32_t id = static_cast<std::uint32_t>(f.id) < n_vocab ? static_cast<std::uint32_t>(f.id) : n_vocab - n_mm + k;
    put(id, f.text, f.type);
  }
  std::uint32_t next = 0;  // next free id
  generate_normal_tokens([&](std::string text, std::string merge) {
    while (next < n_vocab && v.types[next] != 0) ++next;
    if (next >= n_vocab) return false;
    put(next, std::move(text), kTokenNormal);
    if (!merge.empty()) v.merges.push_back(std::move(merge));
    return true;
  });
  v.scores.resize(n_vocab);
  for (std::uint32_t i = 0; i < n_vocab; ++i) v.scores[i] = v.types[i] == kTokenControl ? kControlScore : 0.0f;
  v.pad = 0;
  v.eos = 1;
  v.bos = 2;
  v.unk = 3;
  v.mask = 4;
  v.eot = 106;
  v.suppress = {v.find("<audio|>"), v.find("<image|>")};
  v.chat_template = gemma4_chat_template();
  return v;
}

Vocab import_hf_tokenizer(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_json(path, "cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail_json(path, std::string("invalid JSON: ") + e.what());
  }
  if (!j.contains("model") || !j["model"].is_object() || !j["model"].contains("vocab") || !j["model"]["vocab"].is_object())
    fail_json(path, "no model.vocab object (only BPE tokenizer.json files are supported)");
  const nlohmann::json& model = j["model"];
  std::unordered_map<std::int64_t, std::string> by_id;
  std::unordered_map<std::int64_t, bool> added_special;
  std::int64_t max_id = -1;
  auto add = [&](std::int64_t id, const std::string& text) {
    if (id < 0 || id >= (std::int64_t{1} << 31)) fail_json(path, "token '" + text + "' has id " + std::to_string(id));
    by_id[id] = text;
    max_id = std::max(max_id, id);
  };
  for (const auto& [text, id] : model["vocab"].items()) {
    if (!id.is_number_integer()) fail_json(path, "model.vocab['" + text + "'] is not an integer id");
    add(id.get<std::int64_t>(), text);
  }
  if (j.contains("added_tokens")) {
    if (!j["added_tokens"].is_array()) fail_json(path, "added_tokens is not an array");
    for (const nlohmann::json& t : j["added_tokens"]) {
      if (!t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") || !t["content"].is_string())
        fail_json(path, "an added_tokens entry lacks id or content");
      add(t["id"].get<std::int64_t>(), t["content"].get<std::string>());
      added_special[t["id"].get<std::int64_t>()] = t.value("special", false);
    }
  }
  if (max_id < 0) fail_json(path, "empty vocabulary");
  const std::string unk_text = model.contains("unk_token") && model["unk_token"].is_string() ? model["unk_token"].get<std::string>() : "<unk>";

  Vocab v;
  const auto n = static_cast<std::size_t>(max_id + 1);
  v.tokens.resize(n);
  v.types.resize(n);
  v.scores.assign(n, 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const auto id = static_cast<std::int64_t>(i);
    auto it = by_id.find(id);
    if (it == by_id.end()) {
      v.tokens[i] = "<unused_" + std::to_string(i) + ">";
      v.types[i] = kTokenUnused;
      continue;
    }
    v.tokens[i] = it->second;
    auto sp = added_special.find(id);
    if (it->second == unk_text) v.types[i] = kTokenUnknown;
    else if (sp != added_special.end()) v.types[i] = sp->second ? kTokenControl : kTokenUserDefined;
    else if (is_byte_token(it->second)) v.types[i] = kTokenByte;
    else v.types[i] = kTokenNormal;
    if (v.types[i] == kTokenControl) v.scores[i] = kControlScore;
  }
  if (model.contains("merges")) {
    if (!model["merges"].is_array()) fail_json(path, "model.merges is not an array");
    for (const nlohmann::json& m : model["merges"]) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        fail_json(path, "a model.merges entry is neither \"a b\" nor [a, b]");
      }
    }
  }
  v.pad = v.find("<pad>");
  v.eos = v.find("<eos>");
  v.bos = v.find("<bos>");
  v.unk = v.find(unk_text);
  v.mask = v.find("<mask>");
  v.eot = v.find("<turn|>");
  for (const char* s : {"<audio|>", "<image|>"})
    if (const std::int32_t id = v.find(s); id >= 0) v.suppress.push_back(id);

  v.chat_template = gemma4_chat_template();
  const std::filesystem::path config = path.parent_path() / "tokenizer_config.json";
  if (std::ifstream cin(config, std::ios::binary); cin) {
    try {
      const nlohmann::json c = nlohmann::json::parse(cin);
      if (c.contains("chat_template") && c["chat_template"].is_string())
        v.chat_template = c["chat_template"].get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      fail_json(config, std::string("invalid JSON: ") + e.what());
    }
  }
  return v;
}

void write_tokenizer_metadata(gguf::Writer& w, const Vocab& v) {
  w.set_string("tokenizer.ggml.model", "gemma4");
  w.set_string("tokenizer.ggml.pre", "gemma4");
  w.set_array("tokenizer.ggml.tokens", v.tokens);
  w.set_array("tokenizer.ggml.scores", v.scores);
  w.set_array("tokenizer.ggml.token_type", v.types);
  w.set_array("tokenizer.ggml.merges", v.merges);
  auto id = [&](const char* key, std::int32_t value) {
    if (value >= 0) w.set_u32(key, static_cast<std::uint32_t>(value));
  };
  id("tokenizer.ggml.bos_token_id", v.bos);
  id("tokenizer.ggml.eos_token_id", v.eos);
  id("tokenizer.ggml.eot_token_id", v.eot);
  id("tokenizer.ggml.unknown_token_id", v.unk);
  id("tokenizer.ggml.padding_token_id", v.pad);
  id("tokenizer.ggml.mask_token_id", v.mask);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
  w.set_bool("tokenizer.ggml.add_space_prefix", false);
  if (!v.suppress.empty()) w.set_array("tokenizer.ggml.suppress_tokens", v.suppress);
  w.set_string("tokenizer.chat_template", v.chat_template);
}

}  // namespace tessera::factory
