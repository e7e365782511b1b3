// The speculative decoding loop behind generate() when GenerateOptions::drafter is set (see
// runtime/generate/speculative.h for what it does), with its adaptive draft length.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/generate/generate.h"
#include "runtime/model/mtp_drafter.h"

namespace tessera {

// Picks the draft length that maximises expected tokens per second: E(k) = 1 + sum over i <= k of
// the product of the measured per-position acceptance rates, over the measured cost of drafting
// k tokens plus a (k+1)-row verify; 0 (plain decoding) unless a length beats it by 3%.
class DraftLengthPolicy {
 public:
  explicit DraftLengthPolicy(std::uint32_t k_max);
  std::uint32_t choose(std::uint32_t k_cap);
  void plain_step(double ms);
  void verify_step(std::uint32_t k, std::uint32_t accepted, double draft_ms, double verify_ms);
  double decode_ms() const { return decode_ms_; }

 private:
  std::uint32_t k_max_;
  std::vector<double> accept_;     // [i]: P(draft i+1 accepted | drafts 1..i were)
  std::vector<double> verify_ms_;  // [k]: a (k+1)-row verify; 0 = not measured
  double decode_ms_ = 0, draft_step_ms_ = 0;
  std::uint32_t plain_run_ = 0;    // plain steps since the last verify (probes after 32)
};

struct SpecLoop {
  Gemma4Session& session;
  MtpDraftSession& drafter;
  Sampler& sampler;
  const GenerateOptions& opts;
  std::function<bool(std::uint32_t)> emit;  // streams a token; false: stop
  GenerateStats& st;
  // From the first sampled token t (not in the cache; the session's hidden row 0 produced it).
  void run(std::uint32_t t);
};

}  // namespace tessera
