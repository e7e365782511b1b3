#include "tools/factory/presets.h"

#include <cmath>

#include "engine/error.h"

namespace tessera::factory {

std::uint32_t TextConfig::n_global() const {
  std::uint32_t n = 0;
  for (std::uint32_t il = 0; il < n_layer; ++il) n += is_sliding(il) ? 0 : 1;
  return n;
}

std::uint32_t TextConfig::n_rope_rotating() const {
  return static_cast<std::uint32_t>(std::lround(partial_rotary * static_cast<float>(head_dim) / 2.0f));
}

namespace {

// Fast GPU tests: 6 layers [S,S,S,S,S,F], d 64. Rows of 64/128 are not multiples of 256, so
// K-quant requests fall back to Q5_0 / Q8_0 (see recipe.h).
Preset tiny() {
  Preset p;
  p.name = "tiny";
  return p;  // the defaults of TextConfig / DrafterConfig are the tiny preset
}

// 12 layers, d 256: every text matrix row is a multiple of 256, so K-quants apply; ~27 MB at F16.
Preset small() {
  Preset p;
  p.name = "small";
  TextConfig& t = p.text;
  t.n_layer = 12;
  t.n_embd = 256;
  t.n_ff = 1024;
  t.n_head = 4;
  t.n_head_kv_swa = 2;
  t.n_head_kv = 1;
  t.head_dim_swa = 64;
  t.head_dim = 128;
  t.n_vocab = 4096;
  t.context_length = 8192;
  t.sliding_window = 64;
  p.drafter.n_embd = 128;
  p.drafter.n_ff = 1024;
  return p;
}

// The real Gemma 4 12B shapes (spec §1, §7.1).
Preset gemma_12b() {
  Preset p;
  p.name = "12b";
  TextConfig& t = p.text;
  t.n_layer = 48;
  t.n_embd = 3840;
  t.n_ff = 15360;
  t.n_head = 16;
  t.n_head_kv_swa = 8;
  t.n_head_kv = 1;
  t.head_dim_swa = 256;
  t.head_dim = 512;
  t.n_vocab = 262144;
  t.context_length = 262144;
  t.sliding_window = 1024;
  p.drafter.n_embd = 1024;
  p.drafter.n_ff = 8192;
  return p;
}

}  // namespace

Preset preset_by_name(std::string_view name) {
  if (name == "tiny") return tiny();
  if (name == "small") return small();
  if (name == "12b" || name == "12B") return gemma_12b();
  throw Error("[factory] unknown preset '" + std::string(name) + "' (expected tiny, small or 12b)");
}

std::vector<std::string> preset_names() { return {"tiny", "small", "12b"}; }

}  // namespace tessera::factory
