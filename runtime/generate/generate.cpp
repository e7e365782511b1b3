#include "runtime/generate/generate.h"

#include <chrono>

#include "engine/error.h"
#include "runtime/generate/spec_loop.h"

namespace tessera {
namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::string_view stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::end_token: return "end token";
    case StopReason::max_tokens: return "max tokens";
    case StopReason::context_full: return "context full";
    case StopReason::cancelled: return "cancelled";
  }
  return "?";
}

GenerateStats generate(Gemma4Session& session, const Tokenizer& tok, Sampler& sampler, const StopSet& stops,
                       std::span<const std::uint32_t> prompt, const GenerateOptions& opts,
                       const TokenCallback& on_token) {
  if (prompt.empty()) throw Error("[generate] empty prompt");
  if (session.n_past() + prompt.size() > session.n_ctx())
    throw Error("[generate] the prompt of " + std::to_string(prompt.size()) + " tokens" +
                (session.n_past() ? " after " + std::to_string(session.n_past()) + " tokens of history" : "") +
                " does not fit the context of " + std::to_string(session.n_ctx()) + " tokens (raise --ctx)");
  GenerateStats st;
  st.prompt_tokens = static_cast<std::uint32_t>(prompt.size());
  // Decodes `ids` and samples the next token: from the GPU's top logits when the sampler can
  // (top-k or greedy: a few pairs read back), else from the whole vocabulary.
  const auto decode_and_sample = [&](std::span<const std::uint32_t> ids, const DecodeExtras& extras) {
    const std::uint32_t need = sampler.top_needed();
    if (need > 0 && need <= session.top_logits_max())
      return sampler.sample_top(session.decode_top(ids, need, extras));
    return sampler.sample(session.decode(ids, false, extras));
  };
  for (std::uint32_t id : prompt) {
    if (id >= sampler.n_vocab())
      throw Error("[generate] prompt token " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(sampler.n_vocab()));
    sampler.accept(id);
  }
  auto t0 = std::chrono::steady_clock::now();
  std::uint32_t id = decode_and_sample(prompt, opts.prompt_extras);
  st.prompt_seconds = seconds_since(t0);

  Detokenizer detok(tok);
  t0 = std::chrono::steady_clock::now();
  // Streams one sampled token; false when generation stops here (end token, cancel, max tokens).
  const auto emit = [&](std::uint32_t tok_id) {
    ++st.generated;
    if (stops.is_end(tok_id)) {
      st.stop = StopReason::end_token;
      st.end_token = tok_id;
      return false;
    }
    sampler.accept(tok_id);
    const std::string text = detok.push(static_cast<std::int32_t>(tok_id));
    st.has_unfed = true;
    st.unfed_token = tok_id;
    if (on_token && !on_token(tok_id, text)) {
      st.stop = StopReason::cancelled;
      return false;
    }
    if (opts.max_tokens != 0 && st.generated >= opts.max_tokens) {
      st.stop = StopReason::max_tokens;
      return false;
    }
    return true;
  };
  if (opts.drafter) {
    SpecLoop loop{session, *opts.drafter, sampler, opts, emit, st};
    loop.run(id);
  } else {
    while (emit(id)) {
      if (session.n_past() + 1 > session.n_ctx()) {
        st.stop = StopReason::context_full;
        break;
      }
      const std::uint32_t next[] = {id};
      id = decode_and_sample(next, {});
      st.has_unfed = false;
    }
  }
  const std::string rest = detok.flush();
  if (!rest.empty() && on_token) on_token(0, rest);
  st.generate_seconds = seconds_since(t0);
  return st;
}

}  // namespace tessera
