// Reads Gemma 4 hyper-parameters from "<arch>.*" keys and checks them against each other and
// against the tensors that carry shapes (token_embd, the drafter's pre-projection).
#include "runtime/model/hparams.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera {
namespace {

// Key lookups under "<arch>." with errors "[hparams] <file>: key '<key>' ...".
class Keys {
 public:
  Keys(const gguf::File& f, std::string prefix) : f_(f), prefix_(std::move(prefix)) {}

  std::string key(std::string_view name) const { return prefix_ + "." + std::string(name); }
  bool has(std::string_view name) const { return f_.has(key(name)); }
  const gguf::Value* find(std::string_view name) const { return f_.find(key(name)); }

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error("[hparams] " + path_to_utf8(f_.path()) + ": " + msg);
  }
  [[noreturn]] void fail_key(std::string_view name, const std::string& msg) const {
    fail("key '" + key(name) + "' " + msg);
  }

  std::uint32_t u32(std::string_view name) const {
    if (!has(name)) fail_key(name, "is missing");
    return checked_u32(name, f_.get_uint(key(name)));
  }
  std::uint32_t u32_or(std::string_view name, std::uint32_t def) const { return has(name) ? u32(name) : def; }

  float f32(std::string_view name) const {
    if (!has(name)) fail_key(name, "is missing");
    const double v = f_.get_float(key(name));
    if (!std::isfinite(v)) fail_key(name, "is not finite");
    return static_cast<float>(v);
  }
  float f32_or(std::string_view name, float def) const { return has(name) ? f32(name) : def; }

  // A per-layer value stored as a scalar (same for all layers) or an array of n_layer values.
  std::vector<std::uint32_t> per_layer_u32(std::string_view name, std::uint32_t n_layer) const {
    const gguf::Value* v = find(name);
    if (!v) fail_key(name, "is missing");
    if (!v->is_array()) return std::vector<std::uint32_t>(n_layer, u32(name));
    const std::vector<std::int64_t> a = f_.get_int_array(key(name));
    if (a.size() != n_layer)
      fail_key(name, "has " + std::to_string(a.size()) + " entries but block_count is " + std::to_string(n_layer));
    std::vector<std::uint32_t> out;
    for (const std::int64_t x : a) {
      if (x < 0) fail_key(name, "holds a negative value " + std::to_string(x));
      out.push_back(checked_u32(name, static_cast<std::uint64_t>(x)));
    }
    return out;
  }

  const gguf::File& file() const { return f_; }

 private:
  std::uint32_t checked_u32(std::string_view name, std::uint64_t v) const {
    if (v > std::numeric_limits<std::uint32_t>::max()) fail_key(name, "is " + std::to_string(v) + ", too large");
    return static_cast<std::uint32_t>(v);
  }

  const gguf::File& f_;
  std::string prefix_;
};

// attention.sliding_window_pattern: bool per layer (true = sliding), or an integer period N
// (Gemma 3 style: every N-th layer is global).
std::vector<bool> read_sliding_pattern(const Keys& k, std::uint32_t n_layer) {
  const char* name = "attention.sliding_window_pattern";
  const gguf::Value* v = k.find(name);
  if (!v) k.fail_key(name, "is missing");
  if (v->is_array()) {
    std::vector<bool> p = k.file().get_bool_array(k.key(name));
    if (p.size() != n_layer)
      k.fail_key(name, "has " + std::to_string(p.size()) + " entries but block_count is " + std::to_string(n_layer));
    return p;
  }
  const std::uint32_t period = k.u32(name);
  std::vector<bool> p(n_layer, true);
  for (std::uint32_t il = 0; il < n_layer; ++il) p[il] = period == 0 ? false : (il + 1) % period != 0;
  return p;
}

// Rows of token_embd.weight and the tokenizer's token count must agree.
std::uint32_t read_vocab(const Keys& k, const Gemma4HParams& hp) {
  const gguf::File& f = k.file();
  std::optional<std::uint64_t> from_tensor, from_tokens;
  if (const gguf::TensorInfo* t = f.find_tensor("token_embd.weight")) {
    if (t->ne.size() != 2 || t->ne[0] != hp.n_embd)
      k.fail("tensor 'token_embd.weight' is " + t->shape_string() + ", expected [" + std::to_string(hp.n_embd) +
             ", n_vocab] (embedding_length " + std::to_string(hp.n_embd) + ")");
    from_tensor = t->ne[1];
  }
  if (const gguf::Value* v = f.find("tokenizer.ggml.tokens"); v && v->is_array()) from_tokens = v->array_size();
  if (from_tensor && from_tokens && *from_tensor != *from_tokens)
    k.fail("token_embd.weight has " + std::to_string(*from_tensor) + " rows but tokenizer.ggml.tokens has " +
           std::to_string(*from_tokens) + " tokens");
  const std::optional<std::uint64_t> n = from_tensor ? from_tensor : from_tokens;
  if (!n) k.fail("cannot determine the vocabulary size: no token_embd.weight tensor and no tokenizer.ggml.tokens");
  if (*n == 0 || *n > std::numeric_limits<std::uint32_t>::max())
    k.fail("vocabulary size " + std::to_string(*n) + " is out of range");
  return static_cast<std::uint32_t>(*n);
}

// Drafter: the target width from embedding_length_out / n_embd_backbone, else from the
// pre-projection's input width (target embedding ‖ target hidden = 2 × backbone).
void read_assistant(const Keys& k, Gemma4HParams& hp) {
  if (k.has("embedding_length_out")) {
    hp.n_embd_backbone = k.u32("embedding_length_out");
  } else if (k.has("n_embd_backbone")) {
    hp.n_embd_backbone = k.u32("n_embd_backbone");
  } else {
    for (const char* name : {"nextn.pre_projection.weight", "mtp.pre_projection.weight", "mtp_pre_proj.weight"})
      if (const gguf::TensorInfo* t = k.file().find_tensor(name); t && t->ne[0] % 2 == 0)
        hp.n_embd_backbone = static_cast<std::uint32_t>(std::min<std::uint64_t>(t->ne[0] / 2, UINT32_MAX));
    if (hp.n_embd_backbone == 0)
      k.fail_key("embedding_length_out", "is missing (and no pre-projection tensor gives the backbone width)");
  }
  if (hp.n_embd_backbone == hp.n_embd)
    k.fail_key("embedding_length_out", "equals embedding_length (" + std::to_string(hp.n_embd) +
                                           "): not an assistant (drafter) file");
  hp.n_nextn_layers = k.u32_or("nextn_predict_layers", hp.n_layer);
  if (hp.n_nextn_layers != hp.n_layer)
    k.fail_key("nextn_predict_layers", "is " + std::to_string(hp.n_nextn_layers) + " but block_count is " +
                                           std::to_string(hp.n_layer));
}

void check_layers(const Keys& k, const Gemma4HParams& hp) {
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
    const std::uint32_t kv = hp.n_head_kv[il];
    if (kv == 0 || hp.n_head % kv != 0)
      k.fail_key("attention.head_count_kv", "is " + std::to_string(kv) + " at layer " + std::to_string(il) +
                                                ": must be non-zero and divide head_count " + std::to_string(hp.n_head));
    if (hp.n_ff[il] == 0) k.fail_key("feed_forward_length", "is 0 at layer " + std::to_string(il));
  }
}

}  // namespace

bool is_gemma4_arch(std::string_view arch) {
  return arch == "gemma4" || arch == "gemma4-assistant" || arch == "gemma4_assistant";
}

Gemma4HParams read_gemma4_hparams(const gguf::File& f) {
  Gemma4HParams hp;
  hp.arch = f.architecture();
  if (!is_gemma4_arch(hp.arch))
    throw Error("[hparams] " + path_to_utf8(f.path()) + ": architecture '" + hp.arch +
                "' is not gemma4 / gemma4-assistant");
  hp.is_assistant = hp.arch != "gemma4";
  const Keys k(f, hp.arch);

  hp.n_layer = k.u32("block_count");
  if (hp.n_layer == 0) k.fail_key("block_count", "is 0");
  hp.n_ctx_train = k.u32("context_length");
  hp.n_embd = k.u32("embedding_length");
  if (hp.n_embd == 0) k.fail_key("embedding_length", "is 0");
  hp.n_ff = k.per_layer_u32("feed_forward_length", hp.n_layer);
  hp.n_head = k.u32("attention.head_count");
  if (hp.n_head == 0) k.fail_key("attention.head_count", "is 0");
  hp.n_head_kv = k.per_layer_u32("attention.head_count_kv", hp.n_layer);
  hp.is_sliding = read_sliding_pattern(k, hp.n_layer);
  check_layers(k, hp);
  const std::uint32_t n_sliding = hp.n_sliding_layers();
  const std::uint32_t n_global = hp.n_layer - n_sliding;

  // Global-layer attention (also the defaults when a file has no sliding layer).
  hp.head_dim = k.u32("attention.key_length");
  hp.value_dim = k.u32_or("attention.value_length", hp.head_dim);
  if (hp.head_dim == 0 || hp.value_dim == 0) k.fail_key("attention.key_length", "(or value_length) is 0");
  if (n_global) hp.rope_base = k.f32("rope.freq_base");
  hp.rope_dims = k.u32_or("rope.dimension_count", hp.head_dim);
  if (hp.rope_dims > hp.head_dim || hp.rope_dims % 2)
    k.fail_key("rope.dimension_count", "is " + std::to_string(hp.rope_dims) + ": must be even and <= key_length " +
                                           std::to_string(hp.head_dim));
  if (n_sliding) {
    hp.sliding_window = k.u32("attention.sliding_window");
    if (hp.sliding_window == 0) k.fail_key("attention.sliding_window", "is 0 but the pattern has sliding layers");
    hp.head_dim_swa = k.u32("attention.key_length_swa");
    hp.value_dim_swa = k.u32_or("attention.value_length_swa", hp.head_dim_swa);
    if (hp.head_dim_swa == 0 || hp.value_dim_swa == 0) k.fail_key("attention.key_length_swa", "(or value_length_swa) is 0");
    hp.rope_base_swa = k.f32("rope.freq_base_swa");
    hp.rope_dims_swa = k.u32_or("rope.dimension_count_swa", hp.head_dim_swa);
    if (hp.rope_dims_swa > hp.head_dim_swa || hp.rope_dims_swa % 2)
      k.fail_key("rope.dimension_count_swa", "is " + std::to_string(hp.rope_dims_swa) +
                                                 ": must be even and <= key_length_swa " + std::to_string(hp.head_dim_swa));
  }
  hp.rms_eps = k.f32("attention.layer_norm_rms_epsilon");
  if (!(hp.rms_eps > 0)) k.fail_key("attention.layer_norm_rms_epsilon", "must be positive");
  hp.final_logit_softcap = k.f32_or("final_logit_softcapping", 0.0f);
  if (hp.final_logit_softcap < 0) k.fail_key("final_logit_softcapping", "is negative");
  hp.n_shared_kv_layers = k.u32_or("attention.shared_kv_layers", 0);
  if (hp.n_shared_kv_layers > hp.n_layer)
    k.fail_key("attention.shared_kv_layers", "is " + std::to_string(hp.n_shared_kv_layers) +
                                                 ", more than block_count " + std::to_string(hp.n_layer));
  hp.n_embd_per_layer = k.u32_or("embedding_length_per_layer_input", 0);
  if (hp.is_assistant) read_assistant(k, hp);
  hp.n_vocab = read_vocab(k, hp);
  return hp;
}

std::uint32_t Gemma4HParams::n_sliding_layers() const {
  std::uint32_t n = 0;
  for (std::uint32_t il = 0; il < n_layer && il < is_sliding.size(); ++il) n += is_sliding[il] ? 1u : 0u;
  return n;
}

LayerHParams Gemma4HParams::layer(std::uint32_t il) const {
  if (il >= n_layer || il >= is_sliding.size() || il >= n_head_kv.size() || il >= n_ff.size())
    throw Error("[hparams] layer " + std::to_string(il) + " out of range (block_count " + std::to_string(n_layer) + ")");
  LayerHParams l;
  l.index = il;
  l.is_sliding = is_sliding[il];
  l.n_head = n_head;
  l.n_kv_heads = n_head_kv[il];
  l.head_dim = l.is_sliding ? head_dim_swa : head_dim;
  l.value_dim = l.is_sliding ? value_dim_swa : value_dim;
  l.n_ff = n_ff[il];
  l.rope_base = l.is_sliding ? rope_base_swa : rope_base;
  l.rope_dims = l.is_sliding ? rope_dims_swa : rope_dims;
  l.has_kv = il < n_kv_layers();
  return l;
}

ClipHParams read_clip_hparams(const gguf::File& f) {
  const std::string arch = f.architecture();
  if (arch != "clip")
    throw Error("[hparams] " + path_to_utf8(f.path()) + ": architecture '" + arch + "' is not clip (mmproj)");
  const Keys k(f, "clip");
  ClipHParams c;
  auto flag = [&](std::string_view name) { return k.has(name) && f.get_bool(k.key(name)); };
  auto str = [&](std::string_view name) { return k.has(name) ? f.get_string(k.key(name)) : std::string(); };
  c.has_vision = flag("has_vision_encoder");
  c.has_audio = flag("has_audio_encoder");
  c.vision_projector = str("vision.projector_type");
  if (c.vision_projector.empty()) c.vision_projector = str("projector_type");
  c.audio_projector = str("audio.projector_type");
  c.vision_n_embd = k.u32_or("vision.embedding_length", 0);
  c.vision_proj_dim = k.u32_or("vision.projection_dim", 0);
  c.patch_size = k.u32_or("vision.patch_size", 0);
  c.image_size = k.u32_or("vision.image_size", 0);
  c.scale_factor = k.u32_or("vision.projector.scale_factor", c.vision_projector == "gemma4uv" ? 3 : 0);
  c.vision_eps = k.f32_or("vision.attention.layer_norm_epsilon", 0.0f);
  c.audio_n_embd = k.u32_or("audio.embedding_length", 0);
  c.audio_proj_dim = k.u32_or("audio.projection_dim", 0);
  c.audio_eps = k.f32_or("audio.attention.layer_norm_epsilon", 0.0f);
  return c;
}

}  // namespace tessera
