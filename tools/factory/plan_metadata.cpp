// GGUF metadata keys of the three factory files (spec §8.1 gemma4, §8.2 clip, §8.3
// gemma4-assistant), with the value types llama.cpp's converter writes (u32 scalars, f32
// floats, i32 arrays for per-layer counts, bool arrays for the sliding pattern).
#include "runtime/gguf/gguf_writer.h"
#include "tools/factory/plan.h"

namespace tessera::factory {
namespace {

void write_general(gguf::Writer& w, const std::string& arch, const std::string& type_name, const std::string& name,
                   const TypeChoice& type, const std::string& description) {
  w.set_string("general.architecture", arch);
  w.set_string("general.type", type_name);
  w.set_string("general.name", name);
  w.set_string("general.description", description);
  w.set_u32("general.file_type", type.file_type);
  w.set_u32("general.quantization_version", 2);
}

// Keys shared by the target and the assistant ("<arch>.attention.*", "<arch>.rope.*").
void write_attention(gguf::Writer& w, const std::string& a, const TextConfig& c, std::uint32_t n_layer,
                     const std::vector<bool>& sliding) {
  std::vector<std::int32_t> kv(n_layer);
  for (std::uint32_t il = 0; il < n_layer; ++il)
    kv[il] = static_cast<std::int32_t>(sliding[il] ? c.n_head_kv_swa : c.n_head_kv);
  w.set_u32(a + ".attention.head_count", c.n_head);
  w.set_array(a + ".attention.head_count_kv", std::move(kv));
  w.set_u32(a + ".attention.key_length", c.head_dim);
  w.set_u32(a + ".attention.value_length", c.head_dim);
  w.set_u32(a + ".attention.key_length_swa", c.head_dim_swa);
  w.set_u32(a + ".attention.value_length_swa", c.head_dim_swa);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32(a + ".attention.sliding_window", c.sliding_window);
  w.set_array(a + ".attention.sliding_window_pattern", sliding);
  w.set_u32(a + ".rope.dimension_count", c.head_dim);
  w.set_u32(a + ".rope.dimension_count_swa", c.head_dim_swa);
  w.set_f32(a + ".rope.freq_base", c.rope_base);
  w.set_f32(a + ".rope.freq_base_swa", c.rope_base_swa);
}

}  // namespace

void write_model_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description) {
  const TextConfig& c = p.text;
  const std::string a = "gemma4";
  write_general(w, a, "model", "Gemma 4 " + p.name + " (tessera-factory)", type, description);
  w.set_f32("general.sampling.temp", 1.0f);
  w.set_f32("general.sampling.top_p", 0.95f);
  w.set_i32("general.sampling.top_k", 64);
  std::vector<bool> sliding(c.n_layer);
  for (std::uint32_t il = 0; il < c.n_layer; ++il) sliding[il] = c.is_sliding(il);
  w.set_u32(a + ".block_count", c.n_layer);
  w.set_u32(a + ".context_length", c.context_length);
  w.set_u32(a + ".embedding_length", c.n_embd);
  w.set_u32(a + ".feed_forward_length", c.n_ff);
  write_attention(w, a, c, c.n_layer, sliding);
  w.set_u32(a + ".attention.shared_kv_layers", 0);
  w.set_u32(a + ".embedding_length_per_layer_input", 0);
  w.set_f32(a + ".final_logit_softcapping", c.final_softcap);
}

void write_drafter_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description) {
  const TextConfig& c = p.text;
  const DrafterConfig& dc = p.drafter;
  const std::string a = "gemma4-assistant";
  write_general(w, a, "model", "Gemma 4 " + p.name + " assistant (tessera-factory)", type, description);
  std::vector<bool> sliding(dc.n_layer);
  for (std::uint32_t il = 0; il < dc.n_layer; ++il) sliding[il] = il + 1 != dc.n_layer;
  w.set_u32(a + ".block_count", dc.n_layer);
  w.set_u32(a + ".context_length", c.context_length);
  w.set_u32(a + ".embedding_length", dc.n_embd);
  w.set_u32(a + ".embedding_length_out", c.n_embd);
  w.set_u32(a + ".feed_forward_length", dc.n_ff);
  write_attention(w, a, c, dc.n_layer, sliding);
  w.set_u32(a + ".attention.shared_kv_layers", dc.n_layer);
  w.set_u32(a + ".nextn_predict_layers", dc.n_layer);
  w.set_u32(a + ".embedding_length_per_layer_input", 0);
}

void write_mmproj_metadata(gguf::Writer& w, const Preset& p, const TypeChoice& type, const std::string& description) {
  const MmprojConfig& m = p.mmproj;
  const std::uint32_t d = p.text.n_embd;
  write_general(w, "clip", "mmproj", "Gemma 4 " + p.name + " mmproj (tessera-factory)", type, description);
  w.set_bool("clip.has_vision_encoder", true);
  w.set_bool("clip.has_audio_encoder", true);
  w.set_string("clip.vision.projector_type", "gemma4uv");
  w.set_string("clip.audio.projector_type", "gemma4ua");
  w.set_u32("clip.vision.image_size", m.image_size);
  w.set_u32("clip.vision.patch_size", m.patch_size);
  w.set_u32("clip.vision.projector.scale_factor", m.merge);
  w.set_u32("clip.vision.embedding_length", d);
  w.set_u32("clip.vision.projection_dim", d);
  w.set_u32("clip.vision.block_count", 0);
  w.set_u32("clip.vision.feed_forward_length", 0);
  w.set_u32("clip.vision.attention.head_count", 1);
  w.set_f32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
  w.set_array("clip.vision.image_mean", std::vector<float>{0.0f, 0.0f, 0.0f});
  w.set_array("clip.vision.image_std", std::vector<float>{1.0f, 1.0f, 1.0f});
  w.set_u32("clip.audio.embedding_length", m.audio_frame);
  w.set_u32("clip.audio.projection_dim", d);
  w.set_u32("clip.audio.num_mel_bins", m.num_mel_bins);
  w.set_u32("clip.audio.block_count", 0);
  w.set_u32("clip.audio.feed_forward_length", 0);
  w.set_u32("clip.audio.attention.head_count", 1);
  w.set_f32("clip.audio.attention.layer_norm_epsilon", 1e-6f);
}

}  // namespace tessera::factory
