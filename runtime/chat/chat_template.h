// Gemma 4 chat prompts (spec §8.5) rendered in C++, without a Jinja engine: the same text the
// chat template embedded in Gemma 4 12B GGUFs (tokenizer.chat_template, 18,922 bytes, the
// 2026-07-15 Google revision as unsloth ships it) renders for conversations of plain text,
// images and audio. tests/chat checks it byte for byte against that template run through a
// real Jinja engine. Tool declarations, tool calls and reasoning replay are not modelled.
#pragma once
#include <span>
#include <string>
#include <string_view>

namespace tessera {

struct ChatMessage {
  std::string role;     // system | developer | user | assistant | model | tool
  std::string content;  // plain text
  int n_images = 0;     // <|image|> placeholders, placed before the text
  int n_audio = 0;      // <|audio|> placeholders, after the images and before the text
};

struct ChatOptions {
  bool add_generation_prompt = true;  // end with the opening of a model turn
  bool enable_thinking = false;       // <|think|> in the system turn; off: pre-closed thought channel
};

// The prompt text, starting with "<bos>": tokenize it with parse_special on and add_bos off.
// As in the template: a first system (or developer) message becomes the system turn, which is
// also emitted when thinking is on; "assistant" is rendered as "model"; text is trimmed, and
// model text loses its <|channel>...<channel|> thoughts; consecutive "assistant" messages share
// one model turn; "tool" messages are left out (the template renders tool results only inside
// an assistant turn that made tool calls, which ChatMessage does not carry).
// Throws tessera::Error "[chat] ..." for an unknown role, negative counts, or images or audio
// in the system turn.
std::string render_chat(std::span<const ChatMessage> messages, const ChatOptions& options);

// Helpers the renderer is made of, exposed for tests.
// Jinja's trim on both engines it is checked with: leading and trailing ASCII whitespace and
// the Unicode spaces Python and JavaScript both strip (U+00A0, U+1680, U+2000-U+200A, U+2028,
// U+2029, U+202F, U+205F, U+3000).
std::string_view chat_trim(std::string_view s);
// The template's strip_thinking: drops every "<|channel>...<channel|>" span (an unclosed
// "<|channel>" drops the rest of its segment), then trims.
std::string chat_strip_thinking(std::string_view s);

}  // namespace tessera
