#include "runtime/generate/spec_loop.h"

#include <algorithm>
#include <cstdio>

namespace tessera {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void ema(double& v, double x, double w = 0.2) { v = v == 0 ? x : (1 - w) * v + w * x; }

std::string line(const char* fmt, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, fmt, a, b, c);
  return buf;
}

}  // namespace

std::string SpecStats::summary(double generate_tps) const {
  std::string s = line("speculative: %.0f verify steps, %.0f plain steps; ", double(steps), double(plain_steps));
  s += line("drafted %.0f, accepted %.0f (%.1f%%)\n", double(drafted), double(accepted), 100 * acceptance_rate());
  s += line("  accepted per verify step: %.2f (+1 bonus token)\n", mean_accepted());
  s += "  acceptance by draft position:";
  for (std::size_t i = 0; i < proposed_at.size(); ++i)
    if (proposed_at[i] > 0)
      s += line(" %.0f:%.0f%%", double(i + 1), 100.0 * double(accepted_at[i]) / double(proposed_at[i]));
  s += "\n  accepted lengths:";
  for (std::size_t n = 0; n < accepted_len.size(); ++n)
    if (accepted_len[n] > 0) s += line(" %.0fx%.0f", double(n), double(accepted_len[n]));
  const double plain_tps = decode_ms > 0 ? 1e3 / decode_ms : 0;
  s += line("\n  time: drafting %.2f s, verifying %.2f s, plain decoding %.2f s\n", draft_seconds, verify_seconds,
            plain_seconds);
  s += line("  effective %.2f tok/s vs plain decoding %.2f tok/s (measured 1-token decode): %.2fx\n", generate_tps,
            plain_tps, plain_tps > 0 ? generate_tps / plain_tps : 0.0);
  return s;
}

DraftLengthPolicy::DraftLengthPolicy(std::uint32_t k_max)
    : k_max_(k_max), accept_(k_max, 0.7), verify_ms_(k_max + 1, 0.0) {}

std::uint32_t DraftLengthPolicy::choose(std::uint32_t k_cap) {
  k_cap = std::min(k_cap, k_max_);
  if (decode_ms_ == 0 || k_cap == 0) return 0;  // measure plain decoding first
  if (plain_run_ >= 32) return 1;                // probe: keep the acceptance figures fresh
  std::uint32_t best_k = 0;
  double best = 1.0 / decode_ms_, expected = 1.0, reach = 1.0;
  for (std::uint32_t k = 1; k <= k_cap; ++k) {
    reach *= accept_[k - 1];
    expected += reach;
    const double verify = verify_ms_[k] > 0 ? verify_ms_[k] : decode_ms_ * (1.0 + 0.25 * k);
    const double draft = (draft_step_ms_ > 0 ? draft_step_ms_ : 0.15 * decode_ms_) * k;
    const double rate = expected / (verify + draft);
    if (rate > best * 1.03) best = rate, best_k = k;
  }
  return best_k;
}

void DraftLengthPolicy::plain_step(double ms) {
  ema(decode_ms_, ms);
  ++plain_run_;
}

void DraftLengthPolicy::verify_step(std::uint32_t k, std::uint32_t accepted, double draft_ms, double verify_ms) {
  plain_run_ = 0;
  for (std::uint32_t i = 0; i < k && i <= accepted; ++i) accept_[i] = 0.9 * accept_[i] + (i < accepted ? 0.1 : 0.0);
  ema(verify_ms_[k], verify_ms);
  ema(draft_step_ms_, draft_ms / k);
}

void SpecLoop::run(std::uint32_t t) {
  SpecStats& sp = st.spec;
  const std::uint32_t k_max = std::clamp<std::uint32_t>(
      opts.spec.draft_fixed ? opts.spec.draft_fixed : opts.spec.draft_max, 1, MtpDraftSession::kMaxDraft);
  sp.proposed_at.assign(k_max, 0);
  sp.accepted_at.assign(k_max, 0);
  sp.accepted_len.assign(k_max + 1, 0);
  DraftLengthPolicy policy(k_max);
  std::uint32_t h_row = 0;  // the hidden row of the last decode that produced t
  bool go_on = emit(t);     // t: the last streamed token, not in the cache
  while (go_on) {
    if (session.n_past() + 1 > session.n_ctx()) {
      st.stop = StopReason::context_full;
      return;
    }
    // Drafts that fit: the context, the token budget, one verify ubatch.
    std::uint64_t cap = std::min<std::uint64_t>(k_max, session.n_ctx() - session.n_past() - 1);
    cap = std::min<std::uint64_t>(cap, session.kv_cache().n_ubatch() - 1);
    if (opts.max_tokens != 0) cap = std::min<std::uint64_t>(cap, opts.max_tokens - st.generated);
    const auto k_cap = static_cast<std::uint32_t>(cap);
    const std::uint32_t k = opts.spec.draft_fixed ? std::min(opts.spec.draft_fixed, k_cap) : policy.choose(k_cap);
    auto t0 = std::chrono::steady_clock::now();
    if (k == 0) {  // plain decoding
      const std::uint32_t ids[] = {t};
      const std::uint32_t need = sampler.top_needed();
      t = need > 0 && need <= session.top_logits_max() ? sampler.sample_top(session.decode_top(ids, need))
                                                        : sampler.sample(session.decode(ids));
      const double ms = ms_since(t0);
      policy.plain_step(ms);
      sp.decode_ms = policy.decode_ms();
      sp.plain_seconds += ms / 1e3;
      ++sp.plain_steps;
      st.has_unfed = false;
      h_row = 0;
      go_on = emit(t);
      continue;
    }
    const std::vector<std::uint32_t> drafts = drafter.draft(t, h_row, k);
    const double draft_ms = ms_since(t0);
    t0 = std::chrono::steady_clock::now();
    std::vector<std::uint32_t> ids{t};
    ids.insert(ids.end(), drafts.begin(), drafts.end());
    const std::uint32_t p0 = session.n_past();
    const std::vector<float> logits = session.decode(ids, true);
    st.has_unfed = false;  // t is in the cache now
    const std::size_t vocab = sampler.n_vocab();
    // Row i checks draft i + 1 and is streamed; the first row that disagrees (or row k) gives a
    // token that is not in the cache, the next step's t.
    std::uint32_t kept = 1, accepted = 0;
    for (std::uint32_t i = 0; i < k; ++i) ++sp.proposed_at[i];
    for (std::uint32_t row = 0; row <= k; ++row) {
      const std::span<const float> r(logits.data() + row * vocab, vocab);
      bool acc = false;
      t = row < k ? sampler.verify_draft(r, drafts[row], acc) : sampler.sample(r);
      if (acc) ++sp.accepted_at[row], ++accepted;
      h_row = row;
      go_on = emit(t);
      if (acc && (go_on || st.stop != StopReason::end_token)) {
        ++kept;  // streamed and already in the cache (an end token is not kept)
        st.has_unfed = false;
      }
      if (!acc || !go_on) break;
    }
    session.rollback(p0 + kept);  // the rejected drafts' rows leave the cache
    const double verify_ms = ms_since(t0);
    ++sp.steps;
    sp.drafted += k;
    sp.accepted += accepted;
    ++sp.accepted_len[accepted];
    sp.draft_seconds += draft_ms / 1e3;
    sp.verify_seconds += verify_ms / 1e3;
    policy.verify_step(k, accepted, draft_ms, verify_ms);
    if (opts.on_spec_step) opts.on_spec_step(sp);
  }
}

}  // namespace tessera
