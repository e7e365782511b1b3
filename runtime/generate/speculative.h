// Speculative decoding with the MTP drafter (docs/gemma4-spec.md §7.3): the drafter proposes k
// tokens at the current position, the target decodes the last token plus the k drafts in one
// batch, keeps the longest prefix its own sampler agrees with (greedy: equal to the argmax;
// sampling: speculative sampling, so the output distribution is the target's), takes the bonus
// token of the first disagreeing row, and rolls the rejected rows out of its KV cache.
// The draft length adapts to the measured acceptance per draft position and to the measured cost
// of a k-row verify and of drafting on this device (and falls back to plain decoding when that is
// cheaper), unless fixed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera {

class MtpDraftSession;

struct SpecOptions {
  std::uint32_t draft_max = 8;    // drafts per step at most (adaptive below it)
  std::uint32_t draft_fixed = 0;  // > 0: always this many (benchmarks, tests)
};

// Statistics of one request (GenerateStats::spec) and live (SpecState::stats()).
struct SpecStats {
  std::uint64_t steps = 0;          // verify batches
  std::uint64_t plain_steps = 0;    // single-token decodes (draft length 0 chosen, or the warm-up)
  std::uint64_t drafted = 0;        // draft tokens proposed
  std::uint64_t accepted = 0;       // draft tokens accepted
  std::vector<std::uint64_t> proposed_at;  // [i]: drafts proposed at draft position i + 1
  std::vector<std::uint64_t> accepted_at;  // [i]: drafts accepted at position i + 1 (all before it were)
  std::vector<std::uint64_t> accepted_len; // [n]: verify steps that accepted exactly n drafts
  double draft_seconds = 0, verify_seconds = 0, plain_seconds = 0;
  double decode_ms = 0;             // measured 1-token decode (the plain-decoding baseline)

  double acceptance_rate() const { return drafted ? double(accepted) / double(drafted) : 0.0; }
  // Tokens emitted per verify step: accepted drafts + the bonus token.
  double mean_accepted() const { return steps ? double(accepted) / double(steps) : 0.0; }
  std::string summary(double generate_tps) const;  // multi-line report (tessera run --stats)
};

}  // namespace tessera
