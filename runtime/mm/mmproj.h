// The multimodal projector of Gemma 4 (docs/gemma4-spec.md §4-§5, §8.2): an mmproj GGUF
// ("clip", projector types gemma4uv and gemma4ua) as written by llama.cpp's converter and shipped
// by Ollama, loaded unchanged. There is no encoder: an image becomes 48x48-pixel patches and audio
// 640-sample frames, each projected straight to a row of the decoder's width, injected unscaled at
// the prompt's soft-token slots (Gemma4Session::decode's InjectedRows).
//   image: patch_norm (patchify + LayerNorm) -> dense 6912 -> d -> vision_norms (bias, LayerNorm,
//          2-D position embedding, LayerNorm, RMSNorm) -> projection d -> n_embd
//   audio: RMSNorm (no weight) over each frame -> projection 640 -> n_embd
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/buffer.h"
#include "engine/commands.h"
#include "engine/context.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/gpu_tensor.h"

namespace tessera {

// Projected soft-token rows on the GPU: [count, n_embd] f32.
struct MmRows {
  Buffer rows;
  std::uint32_t count = 0;  // soft tokens
  std::uint32_t width = 0;  // n_embd
  BufferRange range() const { return rows.range(0, std::uint64_t{4} * count * width); }
};

struct MmProjectorInfo {
  bool vision = false, audio = false;
  std::uint32_t n_embd = 0;        // width of the projected rows (the text model's)
  std::uint32_t vision_width = 0;  // the vision embedder's internal width (before the projection)
  std::uint32_t patch_px = 48;     // pixels per merged patch side (patch_size * scale_factor)
  std::uint32_t pos_rows = 0;      // position-table rows per axis: the largest grid side
  std::uint32_t audio_frame = 640; // samples per audio soft token
  float eps_rms = 1e-6f;           // the vision RMSNorm (clip.vision.attention.layer_norm_epsilon)
  float eps_audio = 1e-6f;         // the audio frames' RMSNorm (clip.audio.attention.layer_norm_epsilon)
  float eps_ln = 1e-5f;            // the vision LayerNorms (PyTorch's default, spec §4.2)
  std::uint64_t bytes = 0;         // tensor bytes uploaded
};

class MmProjector {
 public:
  // Opens and checks the file (architecture clip, projector types, every tensor's shape), checks
  // its rows are n_embd wide (the text model's width: an mmproj of another model is refused),
  // then uploads the weights. n_embd 0: the file's own projection width (no model to match).
  // Errors: tessera::Error "[mmproj] <file>: ...".
  static std::unique_ptr<MmProjector> load(Context& ctx, const std::filesystem::path& path, std::uint32_t n_embd,
                                           std::uint64_t max_chunk = 0);
  ~MmProjector();

  const MmProjectorInfo& info() const { return info_; }
  const std::filesystem::path& path() const { return file_.path(); }

  // One image, HWC f32 in [0, 1], width and height multiples of patch_px: its (w/48)·(h/48) rows
  // in raster order. Throws without a vision projector or on a grid larger than the table.
  MmRows project_image(std::span<const float> hwc, std::uint32_t width, std::uint32_t height);
  // 16 kHz mono samples: ceil(n / 640) rows (the tail zero-padded). Throws without an audio
  // projector or on no samples.
  MmRows project_audio(std::span<const float> samples);
  // The rows back on the host (tests, --dump).
  std::vector<float> read(const MmRows& rows) const;
  // Per-dispatch GPU times of the last projection (empty when timestamps are off).
  std::vector<CommandList::Timing> last_timings() const { return cmd_.timings(); }

 private:
  MmProjector(Context& ctx, gguf::File file) : ctx_(ctx), file_(std::move(file)), cmd_(ctx) {}
  Buffer& scratch(std::size_t i, std::uint64_t bytes, const char* name);
  Context& ctx_;
  gguf::File file_;
  MmProjectorInfo info_;
  // vision
  Buffer ln1_w_, ln1_b_, vecs_, pos_;
  std::optional<GpuTensor> patch_embd_, proj_;
  // audio
  std::optional<GpuTensor> audio_proj_;
  CommandList cmd_;
  Buffer scratch_[4];  // grown on demand: input, patches, dense output, normed rows
};

}  // namespace tessera
