// The Gemma 4 text forward pass (docs/gemma4-spec.md §2), one ubatch at a time, read top to
// bottom: embed, 48 × (attention block, FFN block, layer scale), final norm, tied head, soft-cap.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/error.h"
#include "engine/transfer.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/geglu.h"
#include "engine/ops/get_rows.h"
#include "engine/ops/head_norm_rope.h"
#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "engine/ops/topk.h"
#include "engine/ops/rms_norm.h"
#include "engine/ops/softcap.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/model/rope_table.h"

namespace tessera {

// Activation and input buffers for T = n_ubatch tokens, f32 unless noted.
struct Gemma4Session::Buffers {
  Buffer x;        // [T, n_embd] residual stream
  Buffer a;        // [T, n_embd] normed input of a sub-block / final-norm rows
  Buffer o;        // [T, n_embd] sub-block output
  Buffer q;        // [T, n_head * head_dim_max]
  Buffer k;        // [T, n_kv * head_dim] max over layers
  Buffer v;        // [T, n_kv * head_dim] max over layers
  Buffer attn;     // [T, n_head * head_dim_max] attention output
  Buffer attn_scratch;  // split-K partials of attention (largest over layers and batch sizes)
  Buffer gate;     // [T, n_ff_max]
  Buffer up;       // [T, n_ff_max]
  Buffer logits;   // [head_rows, n_vocab]
  Buffer ids;      // [T] u32, host-visible
  Buffer limits;   // [T] u32, host-visible: the last key each row sees on sliding layers (blocks)
  Buffer cs_swa;   // [T, n_rot_swa, 2] (cos, sin), host-visible
  Buffer cs_full;  // [T, n_rot_full, 2], host-visible
  Buffer readback;  // [rows, n_vocab] host-visible, grown on demand
  Buffer hidden;    // [T, n_embd] post-final-norm rows of the last output (keep_hidden)
  Buffer topk_a, topk_b, topk_out;  // GPU top-k scratch and result, made on first use
  std::vector<Buffer> capture;       // per captured layer of the ubatch: scores, then its maps (readback)
  std::uint32_t head_rows = 1;  // logits rows per head matmul (one binding)
  RopeTable rope_swa, rope_full;
  CommandList cmd;
  explicit Buffers(Context& ctx) : cmd(ctx) {}
};

namespace {

Buffer device_buffer(Context& ctx, std::uint64_t floats, const char* name) {
  return Buffer::create(ctx.device(), std::max<std::uint64_t>(4 * floats, 4), MemoryKind::Device, name);
}

}  // namespace

Gemma4Session::Gemma4Session(const Gemma4Model& model, const SessionOptions& opts)
    : model_(model),
      kv_(KvCache::create(model.context(), model.hparams(), opts.n_ctx, opts.n_ubatch, opts.kv_type,
                          opts.max_kv_binding)),
      capture_(opts.capture) {
  if (capture_.layers != 0 &&
      (capture_.heads == 0 || capture_.bins == 0 || capture_.bins > 4096 ||
       (model.hparams().n_layer < 64 && capture_.layers >> model.hparams().n_layer != 0)))
    throw Error("[session] attention capture needs layers < " + std::to_string(model.hparams().n_layer) +
                ", at least one head and 1..4096 bins");
  Context& ctx = model.context();
  const Gemma4HParams& hp = model.hparams();
  const std::uint64_t T = opts.n_ubatch;
  std::uint64_t q_w = 0, kv_w = 0, ff = 0;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    q_w = std::max<std::uint64_t>(q_w, std::uint64_t{l.n_head} * l.head_dim);
    kv_w = std::max<std::uint64_t>(kv_w, std::uint64_t{l.n_kv_heads} * l.head_dim);
    ff = std::max<std::uint64_t>(ff, l.n_ff);
  }
  buf_ = std::make_unique<Buffers>(ctx);
  Buffers& b = *buf_;
  b.x = device_buffer(ctx, T * hp.n_embd, "act.x");
  b.a = device_buffer(ctx, T * hp.n_embd, "act.a");
  b.o = device_buffer(ctx, T * hp.n_embd, "act.o");
  b.q = device_buffer(ctx, T * q_w, "act.q");
  b.k = device_buffer(ctx, T * kv_w, "act.k");
  b.v = device_buffer(ctx, T * kv_w, "act.v");
  b.attn = device_buffer(ctx, T * q_w, "act.attn");
  std::uint64_t scratch = 4;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il)
    for (std::uint32_t m = 1; m <= T; ++m) {
      const ops::AttentionShape s = kv_.layer(il).attention_shape(hp.layer(il).n_head, m, kv_.n_ctx() - m);
      scratch = std::max(scratch, ops::attention_scratch_bytes(s, ops::attention_splits(ctx.plan(), s)));
    }
  b.attn_scratch = Buffer::create(ctx.device(), scratch, MemoryKind::Device, "act.attn_scratch");
  b.gate = device_buffer(ctx, T * ff, "act.gate");
  b.up = device_buffer(ctx, T * ff, "act.up");
  const std::uint64_t row_bytes = 4ull * hp.n_vocab;
  b.head_rows = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(ctx.caps().max_storage_buffer_range / row_bytes, 1, T));
  b.logits = device_buffer(ctx, std::uint64_t{b.head_rows} * hp.n_vocab, "act.logits");
  if (opts.keep_hidden) b.hidden = device_buffer(ctx, T * hp.n_embd, "act.hidden");
  b.ids = Buffer::create(ctx.device(), 4 * T, MemoryKind::Upload, "in.ids");
  b.limits = Buffer::create(ctx.device(), 4 * T, MemoryKind::Upload, "in.limits");
  const bool has_swa = hp.n_sliding_layers() > 0, has_full = hp.n_global_layers() > 0;
  if (has_swa) b.rope_swa = make_rope_table(hp.rope_base_swa, hp.head_dim_swa, nullptr, opts.n_ctx);
  if (has_full) b.rope_full = make_rope_table(hp.rope_base, hp.head_dim, &model.weights().rope_freqs, opts.n_ctx);
  b.cs_swa = Buffer::create(ctx.device(), std::max<std::uint64_t>(8 * T * b.rope_swa.n_rot, 8), MemoryKind::Upload,
                            "in.rope_swa");
  b.cs_full = Buffer::create(ctx.device(), std::max<std::uint64_t>(8 * T * b.rope_full.n_rot, 8),
                             MemoryKind::Upload, "in.rope_full");
}

Gemma4Session::~Gemma4Session() = default;

std::vector<CommandList::Timing> Gemma4Session::last_timings() const { return buf_->cmd.timings(); }

BufferRange Gemma4Session::hidden_rows(std::uint32_t first, std::uint32_t count) const {
  const std::uint64_t row = 4ull * model_.hparams().n_embd;
  if (!buf_->hidden) throw Error("[session] hidden rows need SessionOptions::keep_hidden");
  if (count == 0 || std::uint64_t{first} + count > kv_.n_ubatch())
    throw Error("[session] hidden rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                ") are outside the ubatch of " + std::to_string(kv_.n_ubatch()));
  return buf_->hidden.range(row * first, row * count);
}

std::vector<float> Gemma4Session::read_hidden(std::uint32_t first, std::uint32_t count) const {
  std::vector<float> v(std::size_t{count} * model_.hparams().n_embd);
  download(model_.context(), hidden_rows(first, count), std::as_writable_bytes(std::span(v)));
  return v;
}

void Gemma4Session::check_ids(std::span<const std::uint32_t> ids) const {
  const Gemma4HParams& hp = model_.hparams();
  if (ids.empty()) throw Error("[session] decode of no tokens");
  kv_.check_append(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] >= hp.n_vocab)
      throw Error("[session] token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                  " is outside the vocabulary of " + std::to_string(hp.n_vocab));
}

std::vector<std::uint32_t> Gemma4Session::ubatch_ends(std::size_t n, std::span<const TokenBlock> blocks) const {
  const std::uint32_t ub = kv_.n_ubatch();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const TokenBlock& b = blocks[i];
    if (b.begin >= b.end || b.end > n || (i > 0 && b.begin < blocks[i - 1].end))
      throw Error("[session] bidirectional block " + std::to_string(i) + " [" + std::to_string(b.begin) + ", " +
                  std::to_string(b.end) + ") is empty, past the " + std::to_string(n) +
                  " tokens, or not after the previous block");
    if (b.end - b.begin > ub)
      throw Error("[session] an image block of " + std::to_string(b.end - b.begin) +
                  " tokens does not fit one ubatch of " + std::to_string(ub) + " (raise --ubatch)");
  }
  std::vector<std::uint32_t> ends;
  std::size_t begin = 0, next_block = 0;
  while (begin < n) {
    std::size_t end = std::min<std::size_t>(begin + ub, n);
    while (next_block < blocks.size() && blocks[next_block].end <= begin) ++next_block;
    for (std::size_t i = next_block; i < blocks.size() && blocks[i].begin < end; ++i)
      if (blocks[i].end > end) end = blocks[i].begin;  // end before a block the cut would split
    ends.push_back(static_cast<std::uint32_t>(end));
    begin = end;
  }
  return ends;
}

void Gemma4Session::check_extras(std::size_t n, const DecodeExtras& extras) const {
  const std::uint64_t row_bytes = 4ull * model_.hparams().n_embd;
  for (std::size_t i = 0; i < extras.embeds.size(); ++i) {
    const InjectedRows& e = extras.embeds[i];
    const std::string what = "[session] injected rows " + std::to_string(i) + " [" + std::to_string(e.begin) + ", " +
                             std::to_string(std::uint64_t{e.begin} + e.count) + ")";
    if (e.count == 0 || std::uint64_t{e.begin} + e.count > n)
      throw Error(what + " are empty or run past the " + std::to_string(n) + " tokens");
    if (e.rows.buffer == nullptr || e.rows.bytes() < row_bytes * e.count)
      throw Error(what + " need " + std::to_string(row_bytes * e.count) + " bytes of rows");
    for (std::size_t j = 0; j < i; ++j) {
      const InjectedRows& o = extras.embeds[j];
      if (e.begin < o.begin + o.count && o.begin < e.begin + e.count) throw Error(what + " overlap injected rows " + std::to_string(j));
    }
  }
}

std::vector<float> Gemma4Session::decode(std::span<const std::uint32_t> ids, bool all_logits,
                                         std::span<const TokenBlock> blocks) {
  return decode(ids, all_logits, DecodeExtras{blocks, {}});
}

std::vector<float> Gemma4Session::decode(std::span<const std::uint32_t> ids, bool all_logits,
                                         const DecodeExtras& extras) {
  const Gemma4HParams& hp = model_.hparams();
  check_ids(ids);
  check_extras(ids.size(), extras);
  const std::size_t rows = all_logits ? ids.size() : 1;
  std::vector<float> logits(rows * hp.n_vocab);
  std::size_t begin = 0;
  for (const std::uint32_t end : ubatch_ends(ids.size(), extras.blocks)) {
    const std::size_t n = end - begin;
    const bool last = end == ids.size();
    const auto span = ids.subspan(begin, n);
    const auto first = static_cast<std::uint32_t>(begin);
    if (all_logits)
      forward_ubatch(span, 0, static_cast<std::uint32_t>(n), logits.data() + begin * hp.n_vocab, 0, extras, first);
    else
      forward_ubatch(span, static_cast<std::uint32_t>(n - 1), last ? 1 : 0, logits.data(), 0, extras, first);
    begin = end;
  }
  for (std::uint32_t id : model_.suppressed_tokens())
    for (std::size_t r = 0; r < rows; ++r) logits[r * hp.n_vocab + id] = -std::numeric_limits<float>::infinity();
  return logits;
}

std::uint32_t Gemma4Session::top_logits_max() const {
  const auto suppressed = static_cast<std::uint32_t>(model_.suppressed_tokens().size());
  return suppressed < ops::kTopkMax ? ops::kTopkMax - suppressed : 0;
}

std::vector<TokenLogit> Gemma4Session::decode_top(std::span<const std::uint32_t> ids, std::uint32_t n,
                                                  const DecodeExtras& extras) {
  const Gemma4HParams& hp = model_.hparams();
  if (n == 0 || n > top_logits_max())
    throw Error("[session] decode_top of " + std::to_string(n) + " logits: 1.." + std::to_string(top_logits_max()) +
                " are possible");
  check_ids(ids);
  check_extras(ids.size(), extras);
  // Suppressed tokens are dropped here, so the GPU keeps that many more.
  const std::vector<std::uint32_t>& suppressed = model_.suppressed_tokens();
  const auto k = static_cast<std::uint32_t>(std::min<std::uint64_t>(n + suppressed.size(), hp.n_vocab));
  std::vector<ops::TopkEntry> top(k);
  std::size_t begin = 0;
  for (const std::uint32_t end : ubatch_ends(ids.size(), extras.blocks)) {
    const auto m = static_cast<std::uint32_t>(end - begin);
    forward_ubatch(ids.subspan(begin, m), m - 1, end == ids.size() ? 1 : 0, top.data(), k, extras,
                   static_cast<std::uint32_t>(begin));
    begin = end;
  }
  std::vector<TokenLogit> out;
  out.reserve(n);
  for (const ops::TopkEntry& e : top) {
    if (out.size() == n) break;
    if (e.index >= hp.n_vocab || std::find(suppressed.begin(), suppressed.end(), e.index) != suppressed.end()) continue;
    out.push_back({e.index, std::bit_cast<float>(e.value_bits)});
  }
  return out;
}

void Gemma4Session::forward_ubatch(std::span<const std::uint32_t> ids, std::uint32_t out_first,
                                   std::uint32_t out_rows, void* out, std::uint32_t top_k,
                                   const DecodeExtras& extras, std::uint32_t first) {
  Context& ctx = model_.context();
  const Gemma4HParams& hp = model_.hparams();
  const Gemma4Weights& w = model_.weights();
  Buffers& b = *buf_;
  const auto T = static_cast<std::uint32_t>(ids.size());
  const std::uint32_t pos0 = kv_.n_past(), d = hp.n_embd;

  std::memcpy(b.ids.mapped().data(), ids.data(), 4ull * T);
  b.ids.flush();
  // The blocks of this ubatch (ubatch_ends never splits one), relative to it.
  limits_active_ = false;
  auto* lim = reinterpret_cast<std::uint32_t*>(b.limits.mapped().data());
  for (const TokenBlock& blk : extras.blocks) {
    if (blk.begin < first || blk.end > first + T) continue;
    if (!limits_active_)
      for (std::uint32_t t = 0; t < T; ++t) lim[t] = pos0 + t;
    limits_active_ = true;
    for (std::uint32_t t = blk.begin - first; t < blk.end - first; ++t) lim[t] = pos0 + blk.end - first - 1;
  }
  if (limits_active_) b.limits.flush();
  fill_rope(b.cs_swa, b.rope_swa, pos0, T);
  fill_rope(b.cs_full, b.rope_full, pos0, T);
  const std::uint64_t out_bytes = top_k > 0 ? 8ull * top_k : 4ull * hp.n_vocab * out_rows;
  if (out_rows > 0 && b.readback.size() < out_bytes)
    b.readback = Buffer::create(ctx.device(), out_bytes, MemoryKind::Readback, "out.logits");
  if (top_k > 0 && !b.topk_out) {
    const std::uint64_t scratch = ops::topk_scratch_bytes(hp.n_vocab, ops::kTopkMax);
    b.topk_a = Buffer::create(ctx.device(), scratch, MemoryKind::Device, "act.topk_a");
    b.topk_b = Buffer::create(ctx.device(), scratch, MemoryKind::Device, "act.topk_b");
    b.topk_out = Buffer::create(ctx.device(), 8ull * ops::kTopkMax, MemoryKind::Device, "act.topk");
  }

  b.capture.clear();
  maps_.clear();
  b.cmd.begin();
  ops::get_rows(ctx, b.cmd, w.token_embd.type, w.token_embd.table(), b.ids.range(), b.x.range(), T, d,
                std::sqrt(float(d)));
  for (const InjectedRows& e : extras.embeds) {  // soft tokens: their projected rows, unscaled
    const std::uint32_t lo = std::max(e.begin, first), hi = std::min(e.begin + e.count, first + T);
    if (lo >= hi) continue;
    const std::uint64_t row = 4ull * d;
    b.cmd.copy(e.rows.buffer->range(e.rows.offset + row * (lo - e.begin), row * (hi - lo)),
               b.x.range(row * (lo - first), row * (hi - lo)));
  }
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) record_layer(il, T, pos0);
  if (out_rows > 0) record_output(out_first, out_rows, top_k);
  b.cmd.submit_and_wait();
  kv_.advance(T);
  for (std::size_t i = 1; i < b.capture.size(); i += 2) {
    AttentionMap& m = maps_[i / 2];
    m.p.resize(std::size_t{m.rows} * m.heads * m.bins);
    b.capture[i].invalidate();
    std::memcpy(m.p.data(), b.capture[i].mapped().data(), 4 * m.p.size());
  }
  if (out_rows > 0) {
    b.readback.invalidate();
    std::memcpy(out, b.readback.mapped().data(), out_bytes);
  }
}

void Gemma4Session::record_layer(std::uint32_t il, std::uint32_t T, std::uint32_t pos0) {
  Context& ctx = model_.context();
  const Gemma4HParams& hp = model_.hparams();
  const LayerHParams l = hp.layer(il);
  const Gemma4LayerWeights& lw = model_.weights().layers[il];
  const KvCache::Layer& cache = kv_.layer(il);
  Buffers& b = *buf_;
  CommandList& cmd = b.cmd;
  const RopeTable& rope = l.is_sliding ? b.rope_swa : b.rope_full;
  const BufferRange cs = (l.is_sliding ? b.cs_swa : b.cs_full).range();
  const std::uint32_t d = hp.n_embd, hd = l.head_dim, q_w = l.n_head * hd, kv_w = cache.width;
  const float eps = hp.rms_eps;

  // Attention block: norm, Q/K/V, QK-norm + RoPE, V-norm (V = raw K on global layers).
  ops::rms_norm(ctx, cmd, b.x.range(), lw.attn_norm.range(), b.a.range(), T, d, eps);
  cmd.begin_concurrent();  // Q, K and V read the same input into separate outputs: no barriers between
  ops::matmul(ctx, cmd, lw.attn_q.type, lw.attn_q.table(), b.a.range(), b.q.range(), T, d, q_w);
  ops::matmul(ctx, cmd, lw.attn_k.type, lw.attn_k.table(), b.a.range(), b.k.range(), T, d, kv_w);
  if (lw.attn_v) ops::matmul(ctx, cmd, lw.attn_v->type, lw.attn_v->table(), b.a.range(), b.v.range(), T, d, kv_w);
  cmd.end_concurrent();
  if (lw.attn_v) {
    ops::rms_norm(ctx, cmd, b.v.range(), std::nullopt, b.v.range(), T * l.n_kv_heads, hd, eps);
  } else {
    ops::rms_norm(ctx, cmd, b.k.range(), std::nullopt, b.v.range(), T * l.n_kv_heads, hd, eps);
  }
  ops::head_norm_rope(ctx, cmd, b.q.range(), lw.attn_q_norm.range(), cs, T, l.n_head, hd, rope.n_rot, eps);
  ops::head_norm_rope(ctx, cmd, b.k.range(), lw.attn_k_norm.range(), cs, T, l.n_kv_heads, hd, rope.n_rot, eps);
  kv_.record_store(ctx, cmd, il, b.k.range(), b.v.range(), T, pos0);
  const ops::AttentionShape shape = cache.attention_shape(l.n_head, T, pos0);
  ops::AttentionOptions attn_opt;
  attn_opt.scratch = b.attn_scratch.range();
  if (limits_active_ && l.is_sliding) attn_opt.limits = b.limits.range();  // bidirectional blocks (spec §3)
  cache.bind_chunks(attn_opt);
  ops::AttentionCapture capture;
  if ((capture_.layers >> il & 1) != 0) {
    // Scores of the captured heads, then their maps in a readback buffer (read after the ubatch).
    const ops::KeyRange keys = ops::attention_key_range(shape);
    const std::uint32_t heads = capture_.heads & (l.n_head >= 32 ? ~0u : (1u << l.n_head) - 1);
    const auto n_cap = static_cast<std::uint32_t>(std::popcount(heads));
    const std::uint32_t bins = std::min(capture_.bins, keys.count());
    const std::uint64_t score_bytes = 4ull * T * n_cap * keys.count();
    if (n_cap == 0 || score_bytes > ctx.caps().max_storage_buffer_range)
      throw Error("[session] attention capture of layer " + std::to_string(il) + ": " + std::to_string(n_cap) +
                  " heads x " + std::to_string(T) + " rows x " + std::to_string(keys.count()) +
                  " keys do not fit one storage binding (capture fewer heads or decode in smaller ubatches)");
    b.capture.push_back(Buffer::create(ctx.device(), score_bytes, MemoryKind::Device, "capture.scores"));
    b.capture.push_back(Buffer::create(ctx.device(), 4ull * T * n_cap * bins, MemoryKind::Readback, "capture.maps"));
    capture = {heads, b.capture[b.capture.size() - 2].range()};
    attn_opt.capture = &capture;
    maps_.push_back({il, T, n_cap, bins, keys.lo, keys.hi, {}});
  }
  ops::attention(ctx, cmd, shape, b.q.range(), cache.k.range(), cache.v.range(), b.attn.range(), attn_opt);
  if (attn_opt.capture)
    ops::attention_capture_maps(ctx, cmd, shape, capture, attn_opt.limits, maps_.back().bins,
                                b.capture.back().range());
  ops::matmul(ctx, cmd, lw.attn_output.type, lw.attn_output.table(), b.attn.range(), b.o.range(), T, q_w, d);
  ops::rms_norm(ctx, cmd, b.o.range(), lw.post_attention_norm.range(), b.o.range(), T, d, eps);
  ops::add(ctx, cmd, b.x.range(), b.o.range(), b.x.range(), T * d, T * d);

  // FFN block: norm, GeGLU, down, post-norm, residual; then the layer scale.
  ops::rms_norm(ctx, cmd, b.x.range(), lw.ffn_norm.range(), b.a.range(), T, d, eps);
  ops::matmul_geglu(ctx, cmd, lw.ffn_gate.type, lw.ffn_gate.table(), lw.ffn_up.type, lw.ffn_up.table(), b.a.range(),
                    b.gate.range(), b.up.range(), T, d, l.n_ff);
  ops::matmul(ctx, cmd, lw.ffn_down.type, lw.ffn_down.table(), b.gate.range(), b.o.range(), T, l.n_ff, d);
  ops::rms_norm(ctx, cmd, b.o.range(), lw.post_ffw_norm.range(), b.o.range(), T, d, eps);
  ops::add(ctx, cmd, b.x.range(), b.o.range(), b.x.range(), T * d, T * d);
  if (lw.output_scale != 1.0f) ops::scale(ctx, cmd, b.x.range(), b.x.range(), T * d, lw.output_scale);
}

void Gemma4Session::record_output(std::uint32_t first, std::uint32_t rows, std::uint32_t top_k) {
  Context& ctx = model_.context();
  const Gemma4HParams& hp = model_.hparams();
  const Gemma4Weights& w = model_.weights();
  Buffers& b = *buf_;
  const std::uint64_t vocab = hp.n_vocab, d = hp.n_embd;
  // In groups of rows whose logits fit one binding.
  for (std::uint32_t g = 0; g < rows; g += b.head_rows) {
    const std::uint32_t n = std::min(b.head_rows, rows - g);
    b.cmd.copy(b.x.range(4 * (first + g) * d, 4 * n * d), b.a.range());
    ops::rms_norm(ctx, b.cmd, b.a.range(), w.output_norm.range(), b.a.range(), n, hp.n_embd, hp.rms_eps);
    if (b.hidden) b.cmd.copy(b.a.range(0, 4 * n * d), b.hidden.range(4 * g * d, 4 * n * d));
    ops::matmul(ctx, b.cmd, w.token_embd.type, w.token_embd.table(), b.a.range(), b.logits.range(), n, hp.n_embd,
                hp.n_vocab);
    if (hp.final_logit_softcap > 0)
      ops::softcap(ctx, b.cmd, b.logits.range(), b.logits.range(), n * hp.n_vocab, hp.final_logit_softcap);
    if (top_k > 0) {  // one row: its top entries only
      ops::topk(ctx, b.cmd, b.logits.range(), hp.n_vocab, top_k, b.topk_a.range(), b.topk_b.range(),
                b.topk_out.range());
      b.cmd.copy(b.topk_out.range(0, 8ull * top_k), b.readback.range());
    } else {
      b.cmd.copy(b.logits.range(0, 4 * vocab * n), b.readback.range(4 * vocab * g));
    }
  }
}

}  // namespace tessera
