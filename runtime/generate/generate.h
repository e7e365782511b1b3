// The generation loop shared by `tessera run`, `chat`, `bench` and the C API: prompt prefill,
// then sample -> stream -> decode one token at a time until an end token, the token limit, the
// context limit or the caller's callback stops it. Timed for tokens/s reports.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "runtime/generate/speculative.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/sampling/sampler.h"
#include "runtime/sampling/end_tokens.h"
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {

enum class StopReason { end_token, max_tokens, context_full, cancelled };
std::string_view stop_reason_name(StopReason r);  // "end token", "max tokens", ...

struct GenerateStats {
  std::uint32_t prompt_tokens = 0;
  double prompt_seconds = 0;  // prefill wall time
  std::uint32_t generated = 0;  // tokens sampled, the end token included
  double generate_seconds = 0;  // wall time from the first sample to the last
  StopReason stop = StopReason::max_tokens;
  std::uint32_t end_token = 0;  // the end token that stopped generation (stop == end_token)
  // The last streamed token when it is not in the KV cache yet (stopped by max tokens, context
  // or cancel): a caller continuing the conversation feeds it first.
  bool has_unfed = false;
  std::uint32_t unfed_token = 0;
  SpecStats spec;  // with a drafter (GenerateOptions::drafter)
  double prompt_tps() const { return prompt_seconds > 0 ? prompt_tokens / prompt_seconds : 0; }
  double generate_tps() const { return generate_seconds > 0 ? generated / generate_seconds : 0; }
};

// Called for each generated token (not the end token) with its id and the text that became
// complete with it; returning false cancels.
using TokenCallback = std::function<bool(std::uint32_t id, std::string_view text)>;

struct GenerateOptions {
  std::uint32_t max_tokens = 256;  // generated tokens at most (0: until an end token or the context is full)
  DecodeExtras prompt_extras;      // the prompt's image blocks and soft-token rows (runtime/mm/mm_prompt.h)
  MtpDraftSession* drafter = nullptr;  // speculative decoding (the session needs keep_hidden)
  SpecOptions spec;
  // Called after each verify step with the statistics so far (the viewer's live view).
  std::function<void(const SpecStats&)> on_spec_step;
};

// Appends `prompt` to the session (whose KV cache may hold earlier turns), then generates. The
// end token is sampled but not fed to the session; every streamed token is.
GenerateStats generate(Gemma4Session& session, const Tokenizer& tok, Sampler& sampler, const StopSet& stops,
                       std::span<const std::uint32_t> prompt, const GenerateOptions& opts, const TokenCallback& on_token);

}  // namespace tessera
