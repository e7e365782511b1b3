// The Gemma 4 MTP drafter ("gemma4-assistant", docs/gemma4-spec.md §7, §8.3): four decoder layers
// 1024 wide with no KV cache of their own, reading the target's cache (sliding layers the target's
// last sliding layer, the global layer its last global layer). One drafting step turns the last
// token t (the target's embedding, scaled) and the target's post-norm hidden h into a draft token
// and the next step's h; all steps sit at the same position P (spec §7.2). k steps are recorded
// into one command buffer: each step's argmax (a GPU top-1) feeds the next step's embedding lookup
// without a trip through the host.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "engine/commands.h"
#include "engine/context.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/gpu_tensor.h"
#include "runtime/model/hparams.h"

namespace tessera {

struct MtpLayerWeights {
  Buffer attn_norm, attn_q_norm, post_attention_norm, ffn_norm, post_ffw_norm;  // f32 vectors
  GpuTensor attn_q, attn_output, ffn_gate, ffn_up, ffn_down;
  float output_scale = 1.0f;
};

class MtpDrafter {
 public:
  // Opens and checks a drafter file against the target: architecture gemma4-assistant (or
  // gemma4_assistant), embedding_length_out (n_embd_backbone) = the target's width, the same
  // vocabulary, attention geometry matching the target layers it reads. Accepts the tensor naming
  // variants of spec §8.3 (nextn.* / mtp.* / mtp_pre_proj). Errors: "[drafter] <file>: ...".
  static std::unique_ptr<MtpDrafter> load(Context& ctx, const std::filesystem::path& path, const Gemma4Model& target,
                                          std::uint64_t max_chunk = 0);

  const Gemma4HParams& hparams() const { return hp_; }
  const Gemma4Model& target() const { return target_; }
  const std::filesystem::path& path() const { return file_.path(); }
  std::uint64_t bytes() const { return bytes_; }
  // The target layer whose cache drafter layer il reads.
  std::uint32_t target_layer(std::uint32_t il) const { return target_layer_.at(il); }

 private:
  friend class MtpDraftSession;
  MtpDrafter(Context& ctx, gguf::File file, const Gemma4Model& target)
      : ctx_(ctx), file_(std::move(file)), target_(target) {}
  Context& ctx_;
  gguf::File file_;
  const Gemma4Model& target_;
  Gemma4HParams hp_;
  GpuTensor token_embd, pre_projection, post_projection;  // token_embd: [h, vocab], the output head only
  Buffer output_norm;
  std::vector<float> rope_freqs;
  std::vector<MtpLayerWeights> layers;
  std::vector<std::uint32_t> target_layer_;
  std::uint64_t bytes_ = 0;
};

// Drafting next to one target session (its KV cache and hidden rows; the session needs
// SessionOptions::keep_hidden).
class MtpDraftSession {
 public:
  MtpDraftSession(const MtpDrafter& drafter, const Gemma4Session& target);
  ~MtpDraftSession();
  MtpDraftSession(const MtpDraftSession&) = delete;
  MtpDraftSession& operator=(const MtpDraftSession&) = delete;

  // k draft tokens after `t` at position P = target.n_past() (t is not in the cache yet), from h =
  // the target's post-norm hidden row `h_row` of its last decode (the row that produced t).
  std::vector<std::uint32_t> draft(std::uint32_t t, std::uint32_t h_row, std::uint32_t k);
  // As draft(), with each step's logits [k, n_vocab] and final h_next [n_embd_backbone] (tests).
  std::vector<std::uint32_t> draft(std::uint32_t t, std::uint32_t h_row, std::uint32_t k, std::vector<float>* logits,
                                   std::vector<float>* h_next);
  static constexpr std::uint32_t kMaxDraft = 16;
  std::vector<CommandList::Timing> last_timings() const;

 private:
  struct Buffers;
  void record_step(std::uint32_t step, std::uint32_t P, bool keep_logits);
  const MtpDrafter& d_;
  const Gemma4Session& target_;
  std::unique_ptr<Buffers> b_;
};

}  // namespace tessera
