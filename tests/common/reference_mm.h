// The multimodal oracle: plain scalar CPU versions of the encoder-free image (gemma4uv, spec §4.2-
// §4.4) and audio (gemma4ua, spec §5) projections of a "clip" mmproj GGUF, written from the spec
// (not from the GPU code). Weights are dequantized to f32 at load; sums accumulate in double.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tessera::ref {

// x[n] <- (x - mean) / sqrt(var + eps) · w + b (population variance, as torch.nn.LayerNorm);
// w / b empty: weight 1 / bias 0.
void layer_norm(std::span<float> x, std::span<const float> w, std::span<const float> b, double eps);

class ReferenceMmProj {
 public:
  static constexpr std::uint32_t kPatch = 48;                        // merged patch side (16 · 3)
  static constexpr std::uint32_t kPatchDim = kPatch * kPatch * 3;    // 6912
  static constexpr std::uint32_t kAudioFrame = 640;                  // samples per audio soft token
  static constexpr double kLayerNormEps = 1e-5;                      // vision LayerNorms (spec §4.2)

  // Reads a "clip" mmproj GGUF with the gemma4uv and/or gemma4ua projector (any dtype that
  // runtime/quant/dequant.h handles). The projector type comes from clip.{vision,audio}.projector_type,
  // else from a generic clip.projector_type. Throws tessera::Error "[reference] <file>: ...".
  static ReferenceMmProj load(const std::filesystem::path& mmproj_path);

  std::uint32_t n_embd() const { return n_embd_; }  // the model width of the output rows
  bool has_vision() const { return !proj_.empty(); }
  bool has_audio() const { return !audio_proj_.empty(); }
  std::uint32_t pos_rows() const { return pos_rows_; }  // rows per axis of the position table

  // The 6912-vector of merged patch (gx, gy) of an HWC image `w` pixels wide, in the GGUF mmproj's
  // CHW order (spec §4.3): v[c·2304 + r·48 + col] = hwc[((gy·48 + r)·w + gx·48 + col)·3 + c].
  static std::vector<float> patch_vector(std::span<const float> hwc, std::uint32_t w, std::uint32_t gx,
                                         std::uint32_t gy);

  // Spec §4.2 for every merged patch in raster order (p = gy·cols + gx, pos_x = gx, pos_y = gy):
  // LayerNorm_6912 -> dense + bias -> LayerNorm -> + POS x row gx + POS y row gy -> LayerNorm ->
  // RMSNorm without weight (eps clip.vision.attention.layer_norm_epsilon) -> mm.input_projection.
  // hwc: [h, w, 3] f32, h and w positive multiples of 48. Returns [(h/48)·(w/48), n_embd].
  std::vector<float> project_image(std::span<const float> hwc, std::uint32_t h, std::uint32_t w) const;

  // Spec §5: mono 16 kHz samples zero-padded to a multiple of 640, each frame RMSNorm'd without
  // weight (eps clip.audio.attention.layer_norm_epsilon, 1e-6 default) -> mm.a.input_projection.
  // Returns [ceil(n / 640), n_embd]; throws on no samples.
  std::vector<float> project_audio(std::span<const float> samples) const;

 private:
  [[noreturn]] void fail(const std::string& msg) const;
  std::vector<float> project_patch(std::span<float> p, std::uint32_t gx, std::uint32_t gy) const;  // [n_embd]

  std::filesystem::path path_;
  std::uint32_t n_embd_ = 0;            // projection output width (the text model's n_embd)
  std::uint32_t n_vis_ = 0;             // patch embedding width (3840 in the 12B)
  std::uint32_t pos_rows_ = 0;          // rows per axis of pos_ (1120 in real files)
  double vision_eps_ = 1e-6;            // pre-projection RMSNorm
  double audio_eps_ = 1e-6;             // audio frame RMSNorm
  std::vector<float> ln1_w_, ln1_b_;    // [6912] v.patch_norm.1, CHW order
  std::vector<float> patch_w_;          // [n_vis, 6912] v.patch_embd.weight
  std::vector<float> patch_b_;          // [n_vis] v.patch_embd.bias
  std::vector<float> ln2_w_, ln2_b_;    // [n_vis] v.patch_norm.2
  std::vector<float> pos_;              // [2, pos_rows, n_vis] v.position_embd.weight: x table, y table
  std::vector<float> ln3_w_, ln3_b_;    // [n_vis] v.patch_norm.3
  std::vector<float> proj_;             // [n_embd, n_vis] mm.input_projection.weight; empty: no vision
  std::vector<float> audio_proj_;       // [n_embd, 640] mm.a.input_projection.weight; empty: no audio
};

}  // namespace tessera::ref
