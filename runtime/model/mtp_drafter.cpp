#include "runtime/model/mtp_drafter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/error.h"
#include "engine/ops/attention.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/get_rows.h"
#include "engine/ops/head_norm_rope.h"
#include "engine/ops/matmul.h"
#include "engine/ops/rms_norm.h"
#include "engine/ops/topk.h"
#include "engine/platform/console.h"
#include "engine/transfer.h"
#include "runtime/model/rope_table.h"

namespace tessera {
std::unique_ptr<MtpDrafter> MtpDrafter::load(Context& ctx, const std::filesystem::path& path,
                                             const Gemma4Model& target, std::uint64_t max_chunk) {
  std::unique_ptr<MtpDrafter> d(new MtpDrafter(ctx, gguf::File::open(path), target));
  const gguf::File& f = d->file_;
  const std::string where = "[drafter] " + path_to_utf8(f.path()) + ": ";
  if (!f.architecture().empty() && f.architecture().find("assistant") == std::string::npos)
    throw Error(where + "general.architecture is '" + f.architecture() + "', not an MTP drafter (gemma4-assistant)");
  d->hp_ = read_gemma4_hparams(f);
  const Gemma4HParams& hp = d->hp_;
  const Gemma4HParams& thp = target.hparams();
  if (!hp.is_assistant) throw Error(where + "is not an MTP drafter (gemma4-assistant)");
  if (hp.n_embd_backbone != thp.n_embd)
    throw Error(where + "drafts for a " + std::to_string(hp.n_embd_backbone) + "-wide target but the model is " +
                std::to_string(thp.n_embd) + " wide (a drafter of another model?)");
  if (hp.n_vocab != thp.n_vocab)
    throw Error(where + "has a vocabulary of " + std::to_string(hp.n_vocab) + " tokens, the model " +
                std::to_string(thp.n_vocab));
  // The target layers the drafter reads: its last sliding and its last global layer.
  std::int64_t last_swa = -1, last_full = -1;
  for (std::uint32_t il = 0; il < thp.n_layer; ++il) (thp.layer(il).is_sliding ? last_swa : last_full) = il;
  const std::uint64_t h = hp.n_embd, dt = thp.n_embd;
  auto get = [&](const std::string& name, std::vector<std::uint64_t> ne) -> const gguf::TensorInfo& {
    return require_tensor(f, name, std::move(ne), "drafter");
  };
  auto any_of = [&](std::initializer_list<const char*> names, std::vector<std::uint64_t> ne) -> const gguf::TensorInfo& {
    for (const char* n : names)
      if (f.find_tensor(n)) return get(n, ne);
    return get(*names.begin(), ne);  // the error names the standard tensor
  };
  const gguf::TensorInfo& embd = get("token_embd.weight", {h, thp.n_vocab});
  const gguf::TensorInfo& out_norm = get("output_norm.weight", {h});
  const gguf::TensorInfo& pre = any_of({"nextn.pre_projection.weight", "mtp.pre_projection.weight", "mtp_pre_proj.weight"},
                                       {2 * dt, h});
  const gguf::TensorInfo& post = any_of(
      {"nextn.post_projection.weight", "mtp.post_projection.weight", "mtp_post_proj.weight"}, {h, dt});
  struct Infos {
    const gguf::TensorInfo *attn_norm, *q, *q_norm, *o, *post_attn, *ffn_norm, *gate, *up, *down, *post_ffw, *scale;
  };
  std::vector<Infos> infos;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    const std::int64_t tl = l.is_sliding ? last_swa : last_full;
    if (tl < 0)
      throw Error(where + "layer " + std::to_string(il) + " is " + (l.is_sliding ? "sliding" : "global") +
                  " but the model has no such layer to read");
    const LayerHParams tlh = thp.layer(static_cast<std::uint32_t>(tl));
    if (l.head_dim != tlh.head_dim || l.n_head % tlh.n_kv_heads != 0)
      throw Error(where + "layer " + std::to_string(il) + " has " + std::to_string(l.n_head) + " heads of " +
                  std::to_string(l.head_dim) + " but reads model layer " + std::to_string(tl) + " with " +
                  std::to_string(tlh.n_kv_heads) + " KV heads of " + std::to_string(tlh.head_dim));
    d->target_layer_.push_back(static_cast<std::uint32_t>(tl));
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::uint64_t q_w = std::uint64_t{l.n_head} * l.head_dim;
    Infos in{};
    in.attn_norm = &get(p + "attn_norm.weight", {h});
    in.q = &get(p + "attn_q.weight", {h, q_w});
    in.q_norm = &get(p + "attn_q_norm.weight", {l.head_dim});
    in.o = &get(p + "attn_output.weight", {q_w, h});
    in.post_attn = &get(p + "post_attention_norm.weight", {h});
    in.ffn_norm = &get(p + "ffn_norm.weight", {h});
    in.gate = &get(p + "ffn_gate.weight", {h, l.n_ff});
    in.up = &get(p + "ffn_up.weight", {h, l.n_ff});
    in.down = &get(p + "ffn_down.weight", {l.n_ff, h});
    in.post_ffw = &get(p + "post_ffw_norm.weight", {h});
    in.scale = f.find_tensor(p + "layer_output_scale.weight");
    if (in.scale) get(in.scale->name, {1});
    infos.push_back(in);
  }
  const gguf::TensorInfo* freqs = f.find_tensor("rope_freqs.weight");
  if (freqs) get(freqs->name, {hp.rope_dims / 2});

  auto matrix = [&](const gguf::TensorInfo& t) {
    d->bytes_ += t.n_bytes;
    return upload_tensor(ctx, f, t, max_chunk);
  };
  auto vector = [&](const gguf::TensorInfo& t) {
    d->bytes_ += t.n_bytes;
    return upload_floats(ctx, f, t);
  };
  d->token_embd = matrix(embd);
  d->pre_projection = matrix(pre);
  d->post_projection = matrix(post);
  d->output_norm = vector(out_norm);
  d->rope_freqs = freqs ? tensor_floats(f, *freqs) : std::vector<float>(hp.rope_dims / 2, 1.0f);
  for (const Infos& in : infos) {
    MtpLayerWeights& lw = d->layers.emplace_back();
    lw.attn_norm = vector(*in.attn_norm);
    lw.attn_q = matrix(*in.q);
    lw.attn_q_norm = vector(*in.q_norm);
    lw.attn_output = matrix(*in.o);
    lw.post_attention_norm = vector(*in.post_attn);
    lw.ffn_norm = vector(*in.ffn_norm);
    lw.ffn_gate = matrix(*in.gate);
    lw.ffn_up = matrix(*in.up);
    lw.ffn_down = matrix(*in.down);
    lw.post_ffw_norm = vector(*in.post_ffw);
    lw.output_scale = in.scale ? tensor_floats(f, *in.scale)[0] : 1.0f;
  }
  return d;
}

// One row of activations; the drafted tokens and (optionally) logits come back per step.
struct MtpDraftSession::Buffers {
  Buffer ids;       // [1] u32 (host-visible): the token of the next step's embedding
  Buffer limits;    // [1] u32 (host-visible): P - 1, the last key the drafter sees
  Buffer cs_swa, cs_full;  // RoPE rows at P (host-visible)
  Buffer z, u, a, o, q, attn, gate, up, y, logits, h_next, attn_scratch;
  Buffer topk_a, topk_b, topk_out;
  Buffer tokens;    // [kMaxDraft] TopkEntry readback
  Buffer logits_rb; // [kMaxDraft, n_vocab] readback, made when asked
  Buffer h_rb;      // [n_embd_backbone] readback, made when asked
  RopeTable rope_swa, rope_full;
  CommandList cmd;
  explicit Buffers(Context& ctx) : cmd(ctx) {}
};

MtpDraftSession::MtpDraftSession(const MtpDrafter& drafter, const Gemma4Session& target)
    : d_(drafter), target_(target), b_(std::make_unique<Buffers>(drafter.ctx_)) {
  Context& ctx = drafter.ctx_;
  const Gemma4HParams& hp = drafter.hp_;
  const Gemma4HParams& thp = drafter.target_.hparams();
  Buffers& b = *b_;
  std::uint64_t q_w = 0, ff = 0, scratch = 4;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    q_w = std::max<std::uint64_t>(q_w, std::uint64_t{l.n_head} * l.head_dim);
    ff = std::max<std::uint64_t>(ff, l.n_ff);
    const KvCache::Layer& c = target.kv_cache().layer(drafter.target_layer(il));
    const ops::AttentionShape s = c.attention_shape(l.n_head, 1, target.n_ctx() - 1);
    scratch = std::max(scratch, ops::attention_scratch_bytes(s, ops::attention_splits(ctx.plan(), s)));
  }
  auto dev = [&](std::uint64_t floats, const char* name) {
    return Buffer::create(ctx.device(), 4 * std::max<std::uint64_t>(floats, 1), MemoryKind::Device, name);
  };
  b.ids = Buffer::create(ctx.device(), 4, MemoryKind::Upload, "mtp.ids");
  b.limits = Buffer::create(ctx.device(), 4, MemoryKind::Upload, "mtp.limits");
  b.z = dev(2ull * thp.n_embd, "mtp.z");
  b.u = dev(hp.n_embd, "mtp.u");
  b.a = dev(hp.n_embd, "mtp.a");
  b.o = dev(hp.n_embd, "mtp.o");
  b.y = dev(hp.n_embd, "mtp.y");
  b.q = dev(q_w, "mtp.q");
  b.attn = dev(q_w, "mtp.attn");
  b.gate = dev(ff, "mtp.gate");
  b.up = dev(ff, "mtp.up");
  b.logits = dev(hp.n_vocab, "mtp.logits");
  b.h_next = dev(thp.n_embd, "mtp.h_next");
  b.attn_scratch = Buffer::create(ctx.device(), scratch, MemoryKind::Device, "mtp.attn_scratch");
  const std::uint64_t topk_scratch = ops::topk_scratch_bytes(hp.n_vocab, 1);
  b.topk_a = Buffer::create(ctx.device(), topk_scratch, MemoryKind::Device, "mtp.topk_a");
  b.topk_b = Buffer::create(ctx.device(), topk_scratch, MemoryKind::Device, "mtp.topk_b");
  b.topk_out = Buffer::create(ctx.device(), 8, MemoryKind::Device, "mtp.topk");
  b.tokens = Buffer::create(ctx.device(), 8 * kMaxDraft, MemoryKind::Readback, "mtp.tokens");
  const std::uint32_t n_ctx = target.n_ctx();
  if (hp.n_sliding_layers() > 0) b.rope_swa = make_rope_table(hp.rope_base_swa, hp.head_dim_swa, nullptr, n_ctx);
  if (hp.n_global_layers() > 0) b.rope_full = make_rope_table(hp.rope_base, hp.head_dim, &drafter.rope_freqs, n_ctx);
  b.cs_swa = Buffer::create(ctx.device(), std::max<std::uint64_t>(8 * b.rope_swa.n_rot, 8), MemoryKind::Upload, "mtp.rope_swa");
  b.cs_full = Buffer::create(ctx.device(), std::max<std::uint64_t>(8 * b.rope_full.n_rot, 8), MemoryKind::Upload,
                             "mtp.rope_full");
}

MtpDraftSession::~MtpDraftSession() = default;

std::vector<CommandList::Timing> MtpDraftSession::last_timings() const { return b_->cmd.timings(); }

std::vector<std::uint32_t> MtpDraftSession::draft(std::uint32_t t, std::uint32_t h_row, std::uint32_t k) {
  return draft(t, h_row, k, nullptr, nullptr);
}

void MtpDraftSession::record_step(std::uint32_t step, std::uint32_t P, bool keep_logits) {
  Context& ctx = d_.ctx_;
  const Gemma4HParams& hp = d_.hp_;
  const Gemma4Model& target = d_.target_;
  const Gemma4HParams& thp = target.hparams();
  Buffers& b = *b_;
  CommandList& cmd = b.cmd;
  const std::uint32_t h = hp.n_embd, dt = thp.n_embd;
  const float eps = hp.rms_eps;
  // z = [target embedding of the token x sqrt(d), h]; u = pre_projection · z.
  ops::get_rows(ctx, cmd, target.weights().token_embd.type, target.weights().token_embd.table(), b.ids.range(),
                b.z.range(0, 4ull * dt), 1, dt, std::sqrt(float(dt)));
  ops::matmul(ctx, cmd, d_.pre_projection.type, d_.pre_projection.table(), b.z.range(), b.u.range(), 1, 2 * dt, h);
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const LayerHParams l = hp.layer(il);
    const MtpLayerWeights& lw = d_.layers[il];
    const KvCache::Layer& cache = target_.kv_cache().layer(d_.target_layer(il));
    const RopeTable& rope = l.is_sliding ? b.rope_swa : b.rope_full;
    const BufferRange cs = (l.is_sliding ? b.cs_swa : b.cs_full).range();
    const std::uint32_t q_w = l.n_head * l.head_dim;
    ops::rms_norm(ctx, cmd, b.u.range(), lw.attn_norm.range(), b.a.range(), 1, h, eps);
    ops::matmul(ctx, cmd, lw.attn_q.type, lw.attn_q.table(), b.a.range(), b.q.range(), 1, h, q_w);
    ops::head_norm_rope(ctx, cmd, b.q.range(), lw.attn_q_norm.range(), cs, 1, l.n_head, l.head_dim, rope.n_rot, eps);
    // The query at P sees the target's keys up to P - 1 (its own row is not in the cache).
    ops::AttentionOptions opt;
    opt.limits = b.limits.range();
    opt.scratch = b.attn_scratch.range();
    cache.bind_chunks(opt);
    ops::attention(ctx, cmd, cache.attention_shape(l.n_head, 1, P), b.q.range(), cache.k.range(), cache.v.range(),
                   b.attn.range(), opt);
    ops::matmul(ctx, cmd, lw.attn_output.type, lw.attn_output.table(), b.attn.range(), b.o.range(), 1, q_w, h);
    ops::rms_norm(ctx, cmd, b.o.range(), lw.post_attention_norm.range(), b.o.range(), 1, h, eps);
    ops::add(ctx, cmd, b.u.range(), b.o.range(), b.u.range(), h, h);
    ops::rms_norm(ctx, cmd, b.u.range(), lw.ffn_norm.range(), b.a.range(), 1, h, eps);
    ops::matmul_geglu(ctx, cmd, lw.ffn_gate.type, lw.ffn_gate.table(), lw.ffn_up.type, lw.ffn_up.table(), b.a.range(),
                      b.gate.range(), b.up.range(), 1, h, l.n_ff);
    ops::matmul(ctx, cmd, lw.ffn_down.type, lw.ffn_down.table(), b.gate.range(), b.o.range(), 1, l.n_ff, h);
    ops::rms_norm(ctx, cmd, b.o.range(), lw.post_ffw_norm.range(), b.o.range(), 1, h, eps);
    ops::add(ctx, cmd, b.u.range(), b.o.range(), b.u.range(), h, h);
    if (lw.output_scale != 1.0f) ops::scale(ctx, cmd, b.u.range(), b.u.range(), h, lw.output_scale);
  }
  // y = norm(u); the draft = argmax of the tied head (no soft-cap); h_next = post_projection · y.
  ops::rms_norm(ctx, cmd, b.u.range(), d_.output_norm.range(), b.y.range(), 1, h, eps);
  ops::matmul(ctx, cmd, d_.token_embd.type, d_.token_embd.table(), b.y.range(), b.logits.range(), 1, h, hp.n_vocab);
  ops::topk(ctx, cmd, b.logits.range(), hp.n_vocab, 1, b.topk_a.range(), b.topk_b.range(), b.topk_out.range());
  cmd.copy(b.topk_out.range(0, 8), b.tokens.range(8ull * step, 8));
  cmd.copy(b.topk_out.range(4, 4), b.ids.range(0, 4));  // the next step's token
  if (keep_logits)
    cmd.copy(b.logits.range(0, 4ull * hp.n_vocab), b.logits_rb.range(4ull * hp.n_vocab * step, 4ull * hp.n_vocab));
  ops::matmul(ctx, cmd, d_.post_projection.type, d_.post_projection.table(), b.y.range(), b.h_next.range(), 1, h, dt);
  cmd.copy(b.h_next.range(), b.z.range(4ull * dt, 4ull * dt));  // the next step's h
}

std::vector<std::uint32_t> MtpDraftSession::draft(std::uint32_t t, std::uint32_t h_row, std::uint32_t k,
                                                  std::vector<float>* logits, std::vector<float>* h_next) {
  Context& ctx = d_.ctx_;
  const Gemma4HParams& hp = d_.hp_;
  const std::uint32_t P = target_.n_past(), dt = d_.target_.hparams().n_embd;
  Buffers& b = *b_;
  if (k == 0 || k > kMaxDraft)
    throw Error("[drafter] " + std::to_string(k) + " drafts per step: 1.." + std::to_string(kMaxDraft) + " are possible");
  if (P == 0) throw Error("[drafter] drafting needs the prompt in the target's cache first");
  if (t >= hp.n_vocab) throw Error("[drafter] token " + std::to_string(t) + " is outside the vocabulary");
  if (logits && b.logits_rb.size() < 4ull * hp.n_vocab * k)
    b.logits_rb = Buffer::create(ctx.device(), 4ull * hp.n_vocab * kMaxDraft, MemoryKind::Readback, "mtp.logits_rb");
  if (h_next && !b.h_rb) b.h_rb = Buffer::create(ctx.device(), 4ull * dt, MemoryKind::Readback, "mtp.h_rb");
  std::memcpy(b.ids.mapped().data(), &t, 4);
  b.ids.flush();
  const std::uint32_t last_key = P - 1;
  std::memcpy(b.limits.mapped().data(), &last_key, 4);
  b.limits.flush();
  fill_rope(b.cs_swa, b.rope_swa, P, 1);
  fill_rope(b.cs_full, b.rope_full, P, 1);

  b.cmd.begin();
  b.cmd.copy(target_.hidden_rows(h_row, 1), b.z.range(4ull * dt, 4ull * dt));
  for (std::uint32_t s = 0; s < k; ++s) record_step(s, P, logits != nullptr);
  if (h_next) b.cmd.copy(b.h_next.range(), b.h_rb.range());
  b.cmd.submit_and_wait();

  std::vector<std::uint32_t> out(k);
  b.tokens.invalidate();
  const auto* e = reinterpret_cast<const ops::TopkEntry*>(b.tokens.mapped().data());
  for (std::uint32_t s = 0; s < k; ++s) out[s] = e[s].index;
  if (logits) {
    logits->resize(std::size_t{k} * hp.n_vocab);
    b.logits_rb.invalidate();
    std::memcpy(logits->data(), b.logits_rb.mapped().data(), 4 * logits->size());
  }
  if (h_next) {
    h_next->resize(dt);
    b.h_rb.invalidate();
    std::memcpy(h_next->data(), b.h_rb.mapped().data(), 4ull * dt);
  }
  return out;
}

}  // namespace tessera
