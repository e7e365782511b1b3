// Scalar CPU projections of a Gemma 4 mmproj, step by step as docs/gemma4-spec.md §4.2 (image),
// §4.3 (CHW patch order, position table layout) and §5 (audio) describe them.
#include "common/reference_mm.h"

#include <cmath>
#include <cstddef>
#include <string>

#include "common/reference_forward.h"
#include "common/reference_util.h"
#include "runtime/gguf/gguf.h"

namespace tessera::ref {
namespace {

// The tensor of shape ne, its rank checked first: a tensor of another rank is "expected N dimensions".
std::vector<float> tensor(const Reader& r, const std::string& name, const std::vector<std::uint64_t>& ne) {
  r.info(name, ne.size());
  return r.tensor(name, ne);
}

}  // namespace

void layer_norm(std::span<float> x, std::span<const float> w, std::span<const float> b, double eps) {
  double sum = 0;
  for (const float v : x) sum += v;
  const double n = static_cast<double>(x.size()), mean = sum / n;
  double ss = 0;
  for (const float v : x) ss += (v - mean) * (v - mean);
  const double inv = 1.0 / std::sqrt(ss / n + eps);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double y = (x[i] - mean) * inv * (w.empty() ? 1.0 : static_cast<double>(w[i]));
    x[i] = static_cast<float>(y + (b.empty() ? 0.0 : static_cast<double>(b[i])));
  }
}

// ---- loading (spec §4.4, §5, §8.2) ----

ReferenceMmProj ReferenceMmProj::load(const std::filesystem::path& mmproj_path) {
  const gguf::File f = gguf::File::open(mmproj_path);
  const Reader r(f, "reference");
  ReferenceMmProj m;
  m.path_ = mmproj_path;
  if (f.architecture() != "clip") r.fail("general.architecture is '" + f.architecture() + "', expected 'clip'");
  const std::string generic = r.string_or("clip.projector_type", "");
  const std::string vision_type = r.string_or("clip.vision.projector_type", generic);
  const std::string audio_type = r.string_or("clip.audio.projector_type", generic);
  const bool vision = vision_type == "gemma4uv" && r.flag_or("clip.has_vision_encoder", true);
  const bool audio = audio_type == "gemma4ua" && r.flag_or("clip.has_audio_encoder", true);
  if (!vision && !audio)
    r.fail("has neither a gemma4uv nor a gemma4ua projector (vision '" + vision_type + "', audio '" + audio_type +
           "')");

  if (vision) {
    m.n_vis_ = static_cast<std::uint32_t>(r.info("v.patch_embd.weight", 2).ne[1]);
    const std::uint64_t nv = m.n_vis_;
    m.ln1_w_ = tensor(r, "v.patch_norm.1.weight", {kPatchDim});
    m.ln1_b_ = tensor(r, "v.patch_norm.1.bias", {kPatchDim});
    m.patch_w_ = tensor(r, "v.patch_embd.weight", {kPatchDim, nv});
    m.patch_b_ = tensor(r, "v.patch_embd.bias", {nv});
    m.ln2_w_ = tensor(r, "v.patch_norm.2.weight", {nv});
    m.ln2_b_ = tensor(r, "v.patch_norm.2.bias", {nv});
    m.pos_rows_ = static_cast<std::uint32_t>(r.info("v.position_embd.weight", 3).ne[1]);  // 1120 in real files
    if (m.pos_rows_ == 0) r.fail("tensor 'v.position_embd.weight' has no rows");
    m.pos_ = tensor(r, "v.position_embd.weight", {nv, m.pos_rows_, 2});
    m.ln3_w_ = tensor(r, "v.patch_norm.3.weight", {nv});
    m.ln3_b_ = tensor(r, "v.patch_norm.3.bias", {nv});
    m.n_embd_ = static_cast<std::uint32_t>(r.info("mm.input_projection.weight", 2).ne[1]);
    m.proj_ = tensor(r, "mm.input_projection.weight", {nv, m.n_embd_});
    m.vision_eps_ = r.float_or("clip.vision.attention.layer_norm_epsilon", 1e-6);
  }
  if (audio) {
    const std::uint64_t n_out = r.info("mm.a.input_projection.weight", 2).ne[1];
    if (vision && n_out != m.n_embd_)
      r.fail("mm.a.input_projection.weight projects to " + std::to_string(n_out) +
             " but mm.input_projection.weight to " + std::to_string(m.n_embd_));
    m.n_embd_ = static_cast<std::uint32_t>(n_out);
    m.audio_proj_ = tensor(r, "mm.a.input_projection.weight", {kAudioFrame, n_out});
    m.audio_eps_ = r.float_or("clip.audio.attention.layer_norm_epsilon", 1e-6);
  }
  if (m.n_embd_ == 0) r.fail("the projection has zero output width");
  return m;
}

void ReferenceMmProj::fail(const std::string& msg) const { ref::fail("reference", path_, msg); }

// ---- image (spec §4.2, §4.3) ----

std::vector<float> ReferenceMmProj::patch_vector(std::span<const float> hwc, std::uint32_t w, std::uint32_t gx,
                                                 std::uint32_t gy) {
  std::vector<float> v(kPatchDim);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t r = 0; r < kPatch; ++r)
      for (std::size_t col = 0; col < kPatch; ++col) {
        const std::size_t y = std::size_t{gy} * kPatch + r, x = std::size_t{gx} * kPatch + col;
        v[c * kPatch * kPatch + r * kPatch + col] = hwc[(y * w + x) * 3 + c];
      }
  return v;
}

// p [6912] CHW pixels (overwritten) of the patch at grid (gx, gy) -> its output row [n_embd].
std::vector<float> ReferenceMmProj::project_patch(std::span<float> p, std::uint32_t gx, std::uint32_t gy) const {
  if (gx >= pos_rows_ || gy >= pos_rows_)
    fail("patch at grid (" + std::to_string(gx) + ", " + std::to_string(gy) + ") is outside the position table of " +
         std::to_string(pos_rows_) + " rows per axis");
  layer_norm(p, ln1_w_, ln1_b_, kLayerNormEps);                     // patch_ln1
  std::vector<float> e = matvec(patch_w_, p, patch_b_);             // dense + bias [n_vis]
  layer_norm(e, ln2_w_, ln2_b_, kLayerNormEps);                     // patch_ln2
  const float* px = pos_.data() + std::size_t{gx} * n_vis_;                // x table: rows 0 .. pos_rows-1
  const float* py = pos_.data() + (std::size_t{pos_rows_} + gy) * n_vis_;  // y table: the next pos_rows
  for (std::size_t i = 0; i < n_vis_; ++i)
    e[i] = static_cast<float>(static_cast<double>(e[i]) + px[i] + py[i]);
  layer_norm(e, ln3_w_, ln3_b_, kLayerNormEps);                     // pos_norm
  rms_norm(e, {}, vision_eps_);                                     // pre-projection RMSNorm, no weight
  return matvec(proj_, e);                                          // mm.input_projection, no bias
}

std::vector<float> ReferenceMmProj::project_image(std::span<const float> hwc, std::uint32_t h,
                                                  std::uint32_t w) const {
  if (!has_vision()) fail("has no gemma4uv (vision) projector");
  if (h == 0 || w == 0 || h % kPatch != 0 || w % kPatch != 0)
    fail("image is " + std::to_string(w) + "x" + std::to_string(h) + ", sides must be positive multiples of 48");
  if (hwc.size() != std::size_t{h} * w * 3)
    fail("image " + std::to_string(w) + "x" + std::to_string(h) + " needs " + std::to_string(std::size_t{h} * w * 3) +
         " values (HWC, 3 channels), got " + std::to_string(hwc.size()));
  const std::uint32_t cols = w / kPatch, rows = h / kPatch;
  std::vector<float> out;
  out.reserve(std::size_t{rows} * cols * n_embd_);
  for (std::uint32_t gy = 0; gy < rows; ++gy)
    for (std::uint32_t gx = 0; gx < cols; ++gx) {
      std::vector<float> p = patch_vector(hwc, w, gx, gy);
      const std::vector<float> row = project_patch(p, gx, gy);
      out.insert(out.end(), row.begin(), row.end());
    }
  return out;
}

// ---- audio (spec §5) ----

std::vector<float> ReferenceMmProj::project_audio(std::span<const float> samples) const {
  if (!has_audio()) fail("has no gemma4ua (audio) projector");
  if (samples.empty()) fail("audio has no samples");
  const std::size_t n = (samples.size() + kAudioFrame - 1) / kAudioFrame;
  std::vector<float> out;
  out.reserve(n * n_embd_);
  for (std::size_t t = 0; t < n; ++t) {
    std::vector<float> frame(kAudioFrame, 0.0f);  // the last one zero-padded
    for (std::size_t i = 0; i < kAudioFrame && t * kAudioFrame + i < samples.size(); ++i)
      frame[i] = samples[t * kAudioFrame + i];
    rms_norm(frame, {}, audio_eps_);
    const std::vector<float> row = matvec(audio_proj_, frame);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

}  // namespace tessera::ref
