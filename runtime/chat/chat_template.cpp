// render_chat: the Gemma 4 GGUF chat template (tests/chat/data/gemma4_chat_template.jinja)
// restated for text, image and audio messages. Comments name the template's own variables.
#include "runtime/chat/chat_template.h"

#include <array>
#include <cstdint>

#include "engine/error.h"

namespace tessera {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("[chat] " + what); }

// Length of the whitespace character at the start of s, 0 when there is none.
std::size_t space_at_start(std::string_view s) {
  if (s.empty()) return 0;
  const auto c = static_cast<unsigned char>(s[0]);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  // Multi-byte spaces: U+00A0 C2 A0, U+1680 E1 9A 80, U+2000..U+200A E2 80 80..8A, U+2028/9
  // E2 80 A8/A9, U+202F E2 80 AF, U+205F E2 81 9F, U+3000 E3 80 80.
  auto at = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  if (c == 0xC2 && at(1) == 0xA0) return 2;
  if (c == 0xE1 && at(1) == 0x9A && at(2) == 0x80) return 3;
  if (c == 0xE2 && at(1) == 0x80 && ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF))
    return 3;
  if (c == 0xE2 && at(1) == 0x81 && at(2) == 0x9F) return 3;
  if (c == 0xE3 && at(1) == 0x80 && at(2) == 0x80) return 3;
  return 0;
}

// Length of the whitespace character that ends s, 0 when there is none.
std::size_t space_at_end(std::string_view s) {
  for (std::size_t n = 1; n <= 3 && n <= s.size(); ++n)
    if (space_at_start(s.substr(s.size() - n)) == n) return n;
  return 0;
}

bool known_role(std::string_view r) {
  constexpr std::array<std::string_view, 6> kRoles = {"system", "developer", "user", "assistant", "model", "tool"};
  for (const std::string_view k : kRoles)
    if (r == k) return true;
  return false;
}

// captured_content of one message: the placeholders, then the text (trimmed, or with thoughts
// stripped for the model role), as the template renders a content list.
std::string content_of(const ChatMessage& m, bool is_model) {
  std::string out;
  for (int i = 0; i < m.n_images; ++i) out += "<|image|>";
  for (int i = 0; i < m.n_audio; ++i) out += "<|audio|>";
  if (is_model) out += chat_strip_thinking(m.content);
  else out += chat_trim(m.content);
  return out;
}

}  // namespace

std::string_view chat_trim(std::string_view s) {
  while (const std::size_t n = space_at_start(s)) s.remove_prefix(n);
  while (const std::size_t n = space_at_end(s)) s.remove_suffix(n);
  return s;
}

std::string chat_strip_thinking(std::string_view s) {
  constexpr std::string_view kOpen = "<|channel>", kClose = "<channel|>";
  std::string result;
  for (;;) {  // for part in text.split('<channel|>')
    const std::size_t close = s.find(kClose);
    const std::string_view part = s.substr(0, close);
    result += part.substr(0, part.find(kOpen));  // part.split('<|channel>')[0], or all of it
    if (close == std::string_view::npos) break;
    s.remove_prefix(close + kClose.size());
  }
  return std::string(chat_trim(result));
}

std::string render_chat(std::span<const ChatMessage> messages, const ChatOptions& options) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (!known_role(m.role))
      fail("message " + std::to_string(i) + " has role '" + m.role +
           "'; expected system, developer, user, assistant, model or tool");
    if (m.n_images < 0 || m.n_audio < 0)
      fail("message " + std::to_string(i) + " has a negative image or audio count");
  }
  std::string out = "<bos>";
  const bool has_system = !messages.empty() && (messages[0].role == "system" || messages[0].role == "developer");
  if (has_system || options.enable_thinking) {
    out += "<|turn>system\n";
    if (options.enable_thinking) out += "<|think|>\n";
    if (has_system) {
      if (messages[0].n_images > 0 || messages[0].n_audio > 0) fail("the system message cannot hold images or audio");
      out += chat_trim(messages[0].content);
    }
    out += "<turn|>\n";
  }
  const std::span<const ChatMessage> loop = has_system ? messages.subspan(1) : messages;  // loop_messages

  std::string_view prev_non_tool_role;  // ns.prev_non_tool_role: the raw role, "assistant" not "model"
  for (std::size_t i = 0; i < loop.size(); ++i) {
    const ChatMessage& m = loop[i];
    if (m.role == "tool") continue;  // only rendered as responses to tool calls
    const std::string_view role = m.role == "assistant" ? std::string_view("model") : std::string_view(m.role);
    const bool continue_same_model_turn = role == "model" && prev_non_tool_role == "assistant";
    if (!continue_same_model_turn) out += "<|turn>" + std::string(role) + "\n";
    out += content_of(m, role == "model");
    std::string_view next_role;  // next_nt.role: the next message that is not a tool message
    for (std::size_t j = i + 1; j < loop.size() && next_role.empty(); ++j)
      if (loop[j].role != "tool") next_role = loop[j].role;
    const bool continues_into_next = role == "model" && next_role == "assistant";
    if (!continues_into_next) out += "<turn|>\n";
    prev_non_tool_role = m.role;
  }

  if (options.add_generation_prompt) {
    out += "<|turn>model\n";
    if (!options.enable_thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

}  // namespace tessera
