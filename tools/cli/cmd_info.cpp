// `tessera info FILE.gguf [--ctx N] [--json]`: what is in a GGUF file (header, metadata,
// tensors, totals by type), the model's hyper-parameters and its memory plan at --ctx. Text for
// people, --json for scripts. Any error: a message on stderr and exit code 1.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>

#include "engine/error.h"
#include "engine/ops/attention.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/hparams.h"
#include "runtime/model/memory_plan.h"
#include "tools/cli/commands.h"
#include "engine/platform/console.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

struct InfoOptions {
  std::string path;
  std::uint32_t ctx = 4096;
  std::string kv_type = "f16";
  bool json = false;
};

// Everything `info` shows, gathered before printing so text and JSON agree.
struct Report {
  const gguf::File* file = nullptr;
  std::string arch;
  std::optional<Gemma4HParams> hp;
  std::optional<ClipHParams> clip;
  std::string hparams_error;  // non-empty when the architecture is known but its keys are broken
  MemoryPlan plan;
};

std::string digits(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string sizes(std::uint64_t b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GB, %.2f GiB", static_cast<double>(b) / 1e9,
                static_cast<double>(b) / static_cast<double>(kGiB));
  return digits(b) + " bytes (" + buf + ")";
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Names from a file may hold any bytes; control characters would garble the terminal.
std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

std::string layer_pattern(const Gemma4HParams& hp) {
  std::string s;
  for (std::uint32_t il = 0; il < hp.n_layer; ++il) s += hp.is_sliding[il] ? 'S' : 'G';
  return s;
}

Report gather(const gguf::File& f, const InfoOptions& o) {
  Report r;
  r.file = &f;
  r.arch = f.architecture();
  MemoryPlanOptions mo;
  mo.ctx_len = o.ctx;
  const std::optional<ops::KvType> kv = ops::parse_kv_type(o.kv_type);
  if (!kv) throw Error("[info] unknown KV cache type '" + o.kv_type + "' (f16, q8_0)");
  mo.kv_type = ops::kv_dtype(*kv);
  try {
    if (is_gemma4_arch(r.arch)) r.hp = read_gemma4_hparams(f);
    else if (r.arch == "clip") r.clip = read_clip_hparams(f);
  } catch (const Error& e) {
    r.hparams_error = e.what();
  }
  r.plan = plan_memory(std::span<const gguf::TensorInfo>(f.tensors()), r.hp ? &*r.hp : nullptr, mo);
  return r;
}

// ---- text ----

void print_hparams_text(const Report& r) {
  std::printf("\nhyper-parameters:\n");
  if (!r.hparams_error.empty()) {
    std::printf("  error: %s\n", r.hparams_error.c_str());
    return;
  }
  if (r.hp) {
    const Gemma4HParams& h = *r.hp;
    std::printf("  model:            %s%s\n", h.arch.c_str(), h.is_assistant ? " (MTP drafter)" : "");
    std::printf("  layers:           %u (%u sliding, %u global)  pattern %s\n", h.n_layer, h.n_sliding_layers(),
                h.n_global_layers(), layer_pattern(h).c_str());
    std::printf("  embedding:        %u%s\n", h.n_embd,
                h.is_assistant ? (", backbone " + std::to_string(h.n_embd_backbone)).c_str() : "");
    std::printf("  vocab:            %u\n", h.n_vocab);
    std::printf("  context (train):  %u\n", h.n_ctx_train);
    std::printf("  heads:            %u query\n", h.n_head);
    if (h.n_sliding_layers()) {
      const LayerHParams l = h.layer(static_cast<std::uint32_t>(std::find(h.is_sliding.begin(), h.is_sliding.end(), true) - h.is_sliding.begin()));
      std::printf("  sliding layers:   %u KV heads, head dim %u/%u (K/V), window %u, rope base %s over %u dims\n",
                  l.n_kv_heads, l.head_dim, l.value_dim, h.sliding_window, fmt("%g", l.rope_base).c_str(), l.rope_dims);
    }
    if (h.n_global_layers()) {
      const LayerHParams l = h.layer(static_cast<std::uint32_t>(std::find(h.is_sliding.begin(), h.is_sliding.end(), false) - h.is_sliding.begin()));
      std::printf("  global layers:    %u KV heads, head dim %u/%u (K/V), rope base %s over %u dims\n", l.n_kv_heads,
                  l.head_dim, l.value_dim, fmt("%g", l.rope_base).c_str(), l.rope_dims);
    }
    std::printf("  feed-forward:     %u\n", h.n_ff.empty() ? 0u : h.n_ff[0]);
    std::printf("  rms eps:          %s\n", fmt("%g", h.rms_eps).c_str());
    std::printf("  logit soft-cap:   %s\n", h.final_logit_softcap > 0 ? fmt("%g", h.final_logit_softcap).c_str() : "none");
    if (h.n_shared_kv_layers) std::printf("  shared-KV layers: %u\n", h.n_shared_kv_layers);
    if (h.n_embd_per_layer) std::printf("  per-layer embd:   %u\n", h.n_embd_per_layer);
  } else if (r.clip) {
    const ClipHParams& c = *r.clip;
    std::printf("  vision encoder:   %s", c.has_vision ? "yes" : "no");
    if (c.has_vision)
      std::printf(" (projector %s, embedding %u -> %u, patch %u x merge %u, eps %s)", c.vision_projector.c_str(),
                  c.vision_n_embd, c.vision_proj_dim, c.patch_size, c.scale_factor, fmt("%g", c.vision_eps).c_str());
    std::printf("\n  audio encoder:    %s", c.has_audio ? "yes" : "no");
    if (c.has_audio)
      std::printf(" (projector %s, embedding %u -> %u)", c.audio_projector.c_str(), c.audio_n_embd, c.audio_proj_dim);
    std::printf("\n");
  } else {
    std::printf("  (not read for architecture '%s')\n", r.arch.c_str());
  }
}

void print_plan_text(const Report& r) {
  const MemoryPlan& p = r.plan;
  std::printf("\nmemory plan (ctx %u, KV %s, ubatch %u):\n", p.options.ctx_len,
              std::string(dtype_name(p.options.kv_type)).c_str(), p.options.n_ubatch);
  std::printf("  weights:          %s\n", sizes(p.weight_bytes).c_str());
  if (p.has_model) {
    const KvCachePlan& kv = p.kv;
    std::printf("  KV cache:         %s%s\n", sizes(kv.total_bytes).c_str(),
                r.hp->is_assistant ? " (the drafter reads the target's cache)" : "");
    std::printf("    sliding:        %u layers x %u cells (ring) x %s B = %s\n", kv.n_sliding_layers, kv.sliding_cells,
                digits(kv.sliding_bytes_per_cell).c_str(), digits(kv.sliding_bytes).c_str());
    std::printf("    global:         %u layers x %u cells x %s B = %s\n", kv.n_global_layers, kv.global_cells,
                digits(kv.global_bytes_per_cell).c_str(), digits(kv.global_bytes).c_str());
    // Attention binds one layer's K (and V) cache whole, or in two chunks when one binding cannot
    // hold it (KvCache); more than two bindings' worth is an error at load.
    const std::uint64_t limit = p.options.max_binding_bytes;
    const std::string over = kv.largest_buffer_bytes <= limit ? ""
                             : kv.largest_buffer_bytes <= 2 * limit
                                 ? ", over a " + digits(limit / kMiB) + " MiB binding: kept in two chunks"
                                 : ", over two " + digits(limit / kMiB) +
                                       " MiB bindings: needs a larger storage buffer range (or a shorter --ctx, "
                                       "--kv-type q8_0)";
    std::printf("    largest buffer: %s B (one layer's K or V)%s\n", digits(kv.largest_buffer_bytes).c_str(),
                over.c_str());
    std::printf("  activations:      %s\n", sizes(p.act.total_bytes).c_str());
    std::printf("    ubatch:         %u tokens x %s floats x 4 B = %s\n", p.act.n_tokens,
                digits(p.act.floats_per_token).c_str(), digits(p.act.ubatch_bytes).c_str());
    std::printf("    logits:         %u row(s) x %u x 4 B = %s\n", p.options.n_outputs, r.hp->n_vocab,
                digits(p.act.logits_bytes).c_str());
    if (p.options.ctx_len > r.hp->n_ctx_train)
      std::printf("  note: ctx %u exceeds the trained context %u\n", p.options.ctx_len, r.hp->n_ctx_train);
  }
  std::printf("  total:            %s\n", sizes(p.total_bytes).c_str());
  if (!p.largest.name.empty()) {
    const TensorSplit& s = p.largest;
    std::printf("  largest tensor:   %s %s %s, %s bytes: %s binding chunk(s) of <= %s MiB, %s allocation(s) of <= %s GiB%s\n",
                printable(s.name).c_str(), std::string(dtype_name(s.type)).c_str(), s.shape.c_str(), digits(s.bytes).c_str(),
                digits(s.binding_chunks).c_str(), digits(p.options.max_binding_bytes / kMiB).c_str(),
                digits(s.allocation_chunks).c_str(), digits(p.options.max_allocation_bytes / kGiB).c_str(),
                s.row_exceeds_binding ? " (a single row exceeds a binding)" : "");
    std::printf("  tensors > binding limit: %u, > allocation limit: %u\n", p.n_over_binding, p.n_over_allocation);
  }
}

void print_text(const Report& r) {
  const gguf::File& f = *r.file;
  std::printf("file:             %s\n", path_to_utf8(f.path()).c_str());
  std::printf("file size:        %s\n", sizes(f.file_size()).c_str());
  std::printf("gguf version:     %u\n", f.version());
  std::printf("architecture:     %s\n", r.arch.empty() ? "(none)" : r.arch.c_str());
  std::printf("alignment:        %s\n", digits(f.alignment()).c_str());
  std::printf("data offset:      %s\n", digits(f.data_offset()).c_str());

  std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
  std::size_t kw = 0;
  for (const auto& [key, v] : f.metadata()) kw = std::max(kw, key.size());
  for (const auto& [key, v] : f.metadata())
    std::printf("  %s  %s  %s\n", pad(printable(key), kw).c_str(), pad(gguf::describe_type(v), 22).c_str(),
                gguf::format_value(v).c_str());

  std::printf("\ntensors (%zu):\n", f.tensors().size());
  std::size_t nw = 4, sw = 5;
  for (const gguf::TensorInfo& t : f.tensors()) {
    nw = std::max(nw, t.name.size());
    sw = std::max(sw, t.shape_string().size());
  }
  std::printf("  %s  %-5s  %s  %15s\n", pad("name", nw).c_str(), "type", pad("shape", sw).c_str(), "bytes");
  for (const gguf::TensorInfo& t : f.tensors())
    std::printf("  %s  %-5s  %s  %15s\n", pad(printable(t.name), nw).c_str(), std::string(dtype_name(t.type)).c_str(),
                pad(t.shape_string(), sw).c_str(), digits(t.n_bytes).c_str());

  std::printf("\ntotals by type:\n");
  for (const TypeBytes& tb : r.plan.weights_by_type)
    std::printf("  %-5s  %5s tensors  %s\n", std::string(dtype_name(tb.type)).c_str(), digits(tb.n_tensors).c_str(),
                sizes(tb.bytes).c_str());
  std::printf("  total tensor bytes: %s\n", sizes(r.plan.weight_bytes).c_str());
  std::printf("  file size:          %s\n", sizes(f.file_size()).c_str());

  print_hparams_text(r);
  print_plan_text(r);
}

// ---- JSON ----

json value_json(const gguf::Value& v, std::size_t max_items) {
  if (const auto* a = std::get_if<gguf::Value::Array>(&v.data)) {
    json head = json::array();
    std::visit(
        [&](const auto& vec) {
          for (std::size_t i = 0; i < vec.size() && i < max_items; ++i)
            head.push_back(static_cast<typename std::decay_t<decltype(vec)>::value_type>(vec[i]));
        },
        *a);
    return {{"type", "array"},
            {"element_type", gguf::value_type_name(v.array_type)},
            {"count", v.array_size()},
            {"head", head}};
  }
  json value;
  std::visit([&](const auto& x) {
    if constexpr (!std::is_same_v<std::decay_t<decltype(x)>, gguf::Value::Array>) value = x;
  }, v.data);
  return {{"type", gguf::value_type_name(v.type)}, {"value", value}};
}

json hparams_json(const Report& r) {
  if (!r.hparams_error.empty()) return {{"error", r.hparams_error}};
  if (r.hp) {
    const Gemma4HParams& h = *r.hp;
    json layers = json::array();
    for (std::uint32_t il = 0; il < h.n_layer; ++il) {
      const LayerHParams l = h.layer(il);
      layers.push_back({{"sliding", l.is_sliding}, {"n_kv_heads", l.n_kv_heads}, {"head_dim", l.head_dim},
                        {"value_dim", l.value_dim}, {"n_ff", l.n_ff}, {"rope_base", l.rope_base},
                        {"rope_dims", l.rope_dims}, {"has_kv", l.has_kv}});
    }
    return {{"arch", h.arch}, {"is_assistant", h.is_assistant}, {"n_layer", h.n_layer},
            {"n_sliding_layers", h.n_sliding_layers()}, {"n_global_layers", h.n_global_layers()},
            {"n_ctx_train", h.n_ctx_train}, {"n_embd", h.n_embd}, {"n_embd_backbone", h.n_embd_backbone},
            {"n_head", h.n_head}, {"head_dim", h.head_dim}, {"value_dim", h.value_dim},
            {"head_dim_swa", h.head_dim_swa}, {"value_dim_swa", h.value_dim_swa},
            {"sliding_window", h.sliding_window}, {"rope_base", h.rope_base}, {"rope_base_swa", h.rope_base_swa},
            {"rope_dims", h.rope_dims}, {"rope_dims_swa", h.rope_dims_swa}, {"rms_eps", h.rms_eps},
            {"final_logit_softcap", h.final_logit_softcap}, {"n_vocab", h.n_vocab},
            {"n_shared_kv_layers", h.n_shared_kv_layers}, {"n_embd_per_layer", h.n_embd_per_layer},
            {"pattern", layer_pattern(h)}, {"layers", layers}};
  }
  if (r.clip) {
    const ClipHParams& c = *r.clip;
    return {{"has_vision", c.has_vision}, {"has_audio", c.has_audio}, {"vision_projector", c.vision_projector},
            {"audio_projector", c.audio_projector}, {"vision_n_embd", c.vision_n_embd},
            {"vision_proj_dim", c.vision_proj_dim}, {"patch_size", c.patch_size}, {"image_size", c.image_size},
            {"scale_factor", c.scale_factor}, {"vision_eps", c.vision_eps}, {"audio_n_embd", c.audio_n_embd},
            {"audio_proj_dim", c.audio_proj_dim}, {"audio_eps", c.audio_eps}};
  }
  return nullptr;
}

json plan_json(const MemoryPlan& p) {
  json j = {{"ctx", p.options.ctx_len}, {"kv_type", dtype_name(p.options.kv_type)}, {"n_ubatch", p.options.n_ubatch},
            {"n_outputs", p.options.n_outputs}, {"weight_bytes", p.weight_bytes}, {"total_bytes", p.total_bytes},
            {"max_binding_bytes", p.options.max_binding_bytes},
            {"max_allocation_bytes", p.options.max_allocation_bytes}, {"n_over_binding", p.n_over_binding},
            {"n_over_allocation", p.n_over_allocation}};
  if (p.has_model) {
    j["kv_cache"] = {{"sliding_layers", p.kv.n_sliding_layers}, {"global_layers", p.kv.n_global_layers},
                     {"sliding_cells", p.kv.sliding_cells}, {"global_cells", p.kv.global_cells},
                     {"sliding_bytes_per_cell", p.kv.sliding_bytes_per_cell},
                     {"global_bytes_per_cell", p.kv.global_bytes_per_cell}, {"sliding_bytes", p.kv.sliding_bytes},
                     {"largest_buffer_bytes", p.kv.largest_buffer_bytes},
                     {"global_bytes", p.kv.global_bytes}, {"total_bytes", p.kv.total_bytes}};
    j["activations"] = {{"n_tokens", p.act.n_tokens}, {"floats_per_token", p.act.floats_per_token},
                        {"ubatch_bytes", p.act.ubatch_bytes}, {"logits_bytes", p.act.logits_bytes},
                        {"total_bytes", p.act.total_bytes}};
  }
  if (!p.largest.name.empty())
    j["largest_tensor"] = {{"name", p.largest.name}, {"type", dtype_name(p.largest.type)},
                           {"shape", p.largest.shape}, {"bytes", p.largest.bytes},
                           {"row_bytes", p.largest.row_bytes}, {"rows", p.largest.rows},
                           {"binding_chunks", p.largest.binding_chunks},
                           {"allocation_chunks", p.largest.allocation_chunks},
                           {"row_exceeds_binding", p.largest.row_exceeds_binding}};
  return j;
}

void print_json(const Report& r) {
  const gguf::File& f = *r.file;
  json meta = json::object();
  for (const auto& [key, v] : f.metadata()) meta[key] = value_json(v, 8);
  json tensors = json::array();
  for (const gguf::TensorInfo& t : f.tensors())
    tensors.push_back({{"name", t.name}, {"type", dtype_name(t.type)}, {"shape", t.ne}, {"offset", t.offset},
                       {"bytes", t.n_bytes}});
  json by_type = json::object();
  for (const TypeBytes& tb : r.plan.weights_by_type)
    by_type[std::string(dtype_name(tb.type))] = {{"tensors", tb.n_tensors}, {"bytes", tb.bytes}};
  const json out = {{"file", path_to_utf8(f.path())},
                    {"file_size", f.file_size()},
                    {"version", f.version()},
                    {"architecture", r.arch},
                    {"alignment", f.alignment()},
                    {"data_offset", f.data_offset()},
                    {"metadata", meta},
                    {"tensors", tensors},
                    {"totals_by_type", by_type},
                    {"tensor_bytes", r.plan.weight_bytes},
                    {"hparams", hparams_json(r)},
                    {"memory_plan", plan_json(r.plan)}};
  const std::string s = out.dump(2, ' ', false, json::error_handler_t::replace);
  std::printf("%s\n", s.c_str());
}

int run_info(const InfoOptions& o) {
  try {
    const gguf::File f = gguf::File::open(o.path);
    const Report r = gather(f, o);
    if (o.json) print_json(r);
    else print_text(r);
    std::fflush(stdout);
    if (!r.hparams_error.empty()) {
      std::fprintf(stderr, "tessera info: error: %s\n", r.hparams_error.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "tessera info: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace

void add_info_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "show a GGUF file's metadata, tensors, hyper-parameters and memory plan");
  cmd->add_option("file", opts->path, "the .gguf file")->required();
  cmd->add_option("--ctx", opts->ctx, "context length for the memory plan (default 4096)")
      ->check(CLI::Range(1u, 1u << 30));
  cmd->add_option("--kv-type", opts->kv_type, "KV cache type for the memory plan: f16 or q8_0")->capture_default_str();
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  cmd->callback([opts, &exit_code] { exit_code = run_info(*opts); });
}

}  // namespace tessera::cli
