// The Gemma 4 text model on the GPU: Gemma4Model owns the file, hyper-parameters and weights
// (shared by sessions); Gemma4Session owns one sequence's KV cache and activation buffers and
// runs the forward pass (gemma4_forward.cpp) in ubatches.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "engine/commands.h"
#include "engine/context.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/gemma4_weights.h"
#include "runtime/model/hparams.h"
#include "runtime/sampling/sampler.h"
#include "runtime/model/kv_cache.h"

namespace tessera {

struct ModelLoadOptions {
  std::uint32_t n_ctx = 4096;    // context the caller intends to use (checked against device memory);
                                 // 0: min(4096, the model's trained context)
  std::uint32_t n_ubatch = 512;  // tokens per forward
  LoadProgress progress;         // per tensor uploaded
  std::uint64_t max_chunk = 0;   // weight chunk limit (0: the device's; tests force splits)
  ops::KvType kv_type = ops::KvType::f16;  // KV cache type the caller intends (memory check)
};

class Gemma4Model {
 public:
  // Opens and checks the file (arch gemma4, tensors, shapes), checks the device has the memory for
  // weights + KV cache + activations at opts.n_ctx, then uploads the weights.
  static std::unique_ptr<Gemma4Model> load(Context& ctx, const std::filesystem::path& path,
                                           const ModelLoadOptions& opts = {});

  Context& context() const { return ctx_; }
  const gguf::File& file() const { return file_; }
  const Gemma4HParams& hparams() const { return hp_; }
  const Gemma4Weights& weights() const { return w_; }
  const std::vector<std::uint32_t>& suppressed_tokens() const { return suppress_; }  // logits forced to -inf
  double load_seconds() const { return load_seconds_; }
  std::uint32_t n_ctx() const { return n_ctx_; }  // the context checked at load (opts.n_ctx resolved)

 private:
  Gemma4Model(Context& ctx, gguf::File file) : ctx_(ctx), file_(std::move(file)) {}
  Context& ctx_;
  gguf::File file_;
  Gemma4HParams hp_;
  Gemma4Weights w_;
  std::vector<std::uint32_t> suppress_;
  double load_seconds_ = 0;
  std::uint32_t n_ctx_ = 0;
};

// Attention maps to capture on each forward (for the viewer): off by default, no cost when off.
struct AttentionCaptureOptions {
  std::uint64_t layers = 0;  // bit il: capture layer il (0: off)
  std::uint32_t heads = 1;   // bit h: capture query head h
  std::uint32_t bins = 256;  // map columns at most (fewer keys: one column per key)
};

// One layer's attention in the last ubatch: p[t, c, b] = the probability mass row t of captured
// head c (in the order of the heads' bits) puts on key slice b of positions key_lo..key_hi.
struct AttentionMap {
  std::uint32_t layer = 0, rows = 0, heads = 0, bins = 0;
  std::uint32_t key_lo = 0, key_hi = 0;
  std::vector<float> p;
};

// Tokens [begin, end) of a decode() call that form one bidirectional block (the soft tokens of one
// image, spec §3): on sliding layers each sees the whole block, later tokens included; global
// layers stay causal. A block is never split across ubatches.
struct TokenBlock {
  std::uint32_t begin = 0, end = 0;
};

// Embedding rows that replace those of tokens [begin, begin + count) of a decode() call: the
// projected soft tokens of an image or audio clip (runtime/mm/mmproj.h), injected unscaled where
// text tokens get the √n_embd-scaled table row (spec §4.5, §5). rows: [count, n_embd] f32 on the
// device. A run of rows may span ubatches (audio); an image's run is also a TokenBlock.
struct InjectedRows {
  std::uint32_t begin = 0, count = 0;
  BufferRange rows;
};

// What a prompt carries besides its ids: bidirectional blocks and injected rows (both indices
// into the ids of the call).
struct DecodeExtras {
  std::span<const TokenBlock> blocks;
  std::span<const InjectedRows> embeds;
};

struct SessionOptions {
  SessionOptions() = default;
  SessionOptions(std::uint32_t ctx, std::uint32_t ubatch, ops::KvType kv = ops::KvType::f16,
                 AttentionCaptureOptions cap = {})
      : n_ctx(ctx), n_ubatch(ubatch), kv_type(kv), capture(cap) {}
  std::uint32_t n_ctx = 4096;    // positions the KV cache holds
  std::uint32_t n_ubatch = 512;  // tokens per forward (prefill is split into ubatches)
  ops::KvType kv_type = ops::KvType::f16;  // KV cache storage
  AttentionCaptureOptions capture;
  std::uint64_t max_kv_binding = 0;  // bytes one KV binding may hold (0: the device's; tests chunk caches)
  bool keep_hidden = false;  // keep the post-final-norm hidden rows of each decode (the MTP drafter's input)
};

class Gemma4Session {
 public:
  Gemma4Session(const Gemma4Model& model, const SessionOptions& opts);
  ~Gemma4Session();
  Gemma4Session(const Gemma4Session&) = delete;
  Gemma4Session& operator=(const Gemma4Session&) = delete;

  // Feeds `ids` at positions n_past() ... and returns the logits (soft-capped, suppressed tokens
  // at -inf) of the last token, [n_vocab], or of every token when all_logits, [ids.size(), n_vocab].
  // Throws, before any work, when the tokens do not fit the context or an id is out of range.
  // blocks: bidirectional blocks among ids (sorted, disjoint, each at most n_ubatch tokens);
  // extras.embeds: rows injected in place of token embeddings (each within ids, disjoint).
  std::vector<float> decode(std::span<const std::uint32_t> ids, bool all_logits = false,
                            std::span<const TokenBlock> blocks = {});
  std::vector<float> decode(std::span<const std::uint32_t> ids, bool all_logits, const DecodeExtras& extras);
  // decode() of the last token reduced on the GPU to its n highest logits (suppressed tokens
  // excluded), logit descending, ties to the lower id: n pairs come back instead of the whole
  // vocabulary (Sampler::sample_top). 1 <= n <= top_logits_max(); fewer when the vocabulary is.
  std::vector<TokenLogit> decode_top(std::span<const std::uint32_t> ids, std::uint32_t n,
                                     const DecodeExtras& extras = {});
  std::uint32_t top_logits_max() const;

  std::uint32_t n_past() const { return kv_.n_past(); }
  std::uint32_t n_ctx() const { return kv_.n_ctx(); }
  void rollback(std::uint32_t n_past) { kv_.rollback(n_past); }
  void reset() { kv_.reset(); }
  const KvCache& kv_cache() const { return kv_; }
  const Gemma4Model& model() const { return model_; }
  // The captured attention maps of the last ubatch, one per captured layer (SessionOptions::capture).
  const std::vector<AttentionMap>& attention_maps() const { return maps_; }
  // With SessionOptions::keep_hidden: the post-final-norm hidden states [rows, n_embd] f32 of the
  // rows whose logits the last ubatch produced (row 0 = its first output row; for decode() without
  // all_logits, the last token). The MTP drafter's h (spec §7.2).
  BufferRange hidden_rows(std::uint32_t first, std::uint32_t count) const;
  std::vector<float> read_hidden(std::uint32_t first, std::uint32_t count) const;  // host copy (tests)
  // Per-dispatch GPU times of the last ubatch (empty when timestamps are off).
  std::vector<CommandList::Timing> last_timings() const;

 private:
  struct Buffers;
  // Runs a ubatch; copies the logits of rows [out_first, out_first + out_rows) to out, or with
  // top_k > 0 (one row) that row's top_k (value, id) entries.
  // blocks: the bidirectional blocks inside this ubatch, as indices into ids.
  // embeds: the injected rows of the whole call; `first` is the call index of ids[0].
  void forward_ubatch(std::span<const std::uint32_t> ids, std::uint32_t out_first, std::uint32_t out_rows, void* out,
                      std::uint32_t top_k, const DecodeExtras& extras, std::uint32_t first);
  // Checks extras against a call of n ids (decode, decode_top).
  void check_extras(std::size_t n, const DecodeExtras& extras) const;
  // Where the ubatches of n tokens end: at most n_ubatch each, never inside a block (checked).
  std::vector<std::uint32_t> ubatch_ends(std::size_t n, std::span<const TokenBlock> blocks) const;
  // Checks ids against the vocabulary and the context (decode, decode_top).
  void check_ids(std::span<const std::uint32_t> ids) const;
  // Records decoder layer `il` on the residual stream of T tokens at positions pos0...
  void record_layer(std::uint32_t il, std::uint32_t T, std::uint32_t pos0);
  // Records final norm, tied head and soft-cap of residual rows [first, first + rows) into the
  // readback buffer.
  void record_output(std::uint32_t first, std::uint32_t rows, std::uint32_t top_k);

  const Gemma4Model& model_;
  KvCache kv_;
  std::unique_ptr<Buffers> buf_;
  AttentionCaptureOptions capture_;
  bool limits_active_ = false;  // this ubatch has bidirectional blocks: sliding layers read b.limits
  std::vector<AttentionMap> maps_;
};

}  // namespace tessera
