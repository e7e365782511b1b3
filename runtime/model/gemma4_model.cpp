#include "runtime/model/gemma4_model.h"

#include <algorithm>
#include <chrono>

#include "engine/error.h"
#include "runtime/model/memory_plan.h"
#include "engine/platform/console.h"

namespace tessera {
namespace {

void check_device_memory(const Context& ctx, const gguf::File& file, const Gemma4HParams& hp,
                         const ModelLoadOptions& opts) {
  MemoryPlanOptions mo;
  mo.ctx_len = opts.n_ctx;
  mo.n_ubatch = opts.n_ubatch;
  mo.kv_type = ops::kv_dtype(opts.kv_type);
  require_device_memory(plan_memory(file, hp, mo), device_memory_available(ctx.caps()), path_to_utf8(file.path()),
                        ctx.caps().name);
}

}  // namespace

std::unique_ptr<Gemma4Model> Gemma4Model::load(Context& ctx, const std::filesystem::path& path,
                                               const ModelLoadOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Gemma4Model> m(new Gemma4Model(ctx, gguf::File::open(path)));
  const std::string arch = m->file_.architecture();
  if (arch != "gemma4")
    throw Error("[model] " + path_to_utf8(path) + ": architecture '" + arch +
                "' is not a Gemma 4 text model (expected 'gemma4'" +
                (arch == "clip" ? "; this is an mmproj file, pass it with --mmproj" : "") +
                (is_gemma4_arch(arch) ? "; this is an MTP drafter, pass it with --drafter" : "") + ")");
  m->hp_ = read_gemma4_hparams(m->file_);
  if (m->hp_.n_embd_per_layer != 0)
    throw Error("[model] " + path_to_utf8(path) + ": per-layer embeddings (PLE) are not supported (Gemma 4 E2B/E4B)");
  if (m->hp_.n_shared_kv_layers != 0)
    throw Error("[model] " + path_to_utf8(path) + ": KV sharing across layers is not supported");
  for (std::uint32_t il = 0; il < m->hp_.n_layer; ++il) {
    const LayerHParams l = m->hp_.layer(il);
    if (l.rope_dims != l.head_dim)
      throw Error("[model] " + path_to_utf8(path) + ": layer " + std::to_string(il) + " rotates " +
                  std::to_string(l.rope_dims) + " of " + std::to_string(l.head_dim) +
                  " dims; only full-head rotation (with rope_freqs for partial) is supported");
  }
  ModelLoadOptions checked = opts;
  if (checked.n_ctx == 0) checked.n_ctx = std::min<std::uint32_t>(4096, m->hp_.n_ctx_train);
  m->n_ctx_ = checked.n_ctx;
  check_device_memory(ctx, m->file_, m->hp_, checked);
  if (m->file_.has("tokenizer.ggml.suppress_tokens"))
    for (std::int64_t id : m->file_.get_int_array("tokenizer.ggml.suppress_tokens"))
      if (id >= 0 && id < m->hp_.n_vocab) m->suppress_.push_back(static_cast<std::uint32_t>(id));
  m->w_ = load_gemma4_weights(ctx, m->file_, m->hp_, opts.progress, opts.max_chunk);
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

}  // namespace tessera
