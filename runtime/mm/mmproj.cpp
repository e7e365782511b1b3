#include "runtime/mm/mmproj.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/error.h"
#include "engine/ops/matmul.h"
#include "engine/ops/rms_norm.h"
#include "engine/ops/vision_embed.h"
#include "engine/platform/console.h"
#include "engine/transfer.h"

namespace tessera {
namespace {

class MmprojFile {
 public:
  explicit MmprojFile(const gguf::File& f) : f_(f) {}

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error("[mmproj] " + path_to_utf8(f_.path()) + ": " + msg);
  }
  std::string string_or(std::string_view key, const std::string& def) const {
    return f_.has(key) ? f_.get_string(key) : def;
  }
  bool bool_or(std::string_view key, bool def) const { return f_.has(key) ? f_.get_bool(key) : def; }
  std::uint32_t u32_or(std::string_view key, std::uint32_t def) const {
    if (!f_.has(key)) return def;
    const std::uint64_t v = f_.get_uint(key);
    if (v == 0 || v > 1u << 20) fail("'" + std::string(key) + "' = " + std::to_string(v) + " is out of range");
    return static_cast<std::uint32_t>(v);
  }
  float eps_or(std::string_view key, float def) const {
    if (!f_.has(key)) return def;
    const double v = f_.get_float(key);
    if (!(v > 0 && v < 1)) fail("'" + std::string(key) + "' = " + std::to_string(v) + " is not a small positive epsilon");
    return static_cast<float>(v);
  }
  // The projector type of one modality: clip.<m>.projector_type, else the older clip.projector_type.
  std::string projector_type(std::string_view modality) const {
    const std::string key = "clip." + std::string(modality) + ".projector_type";
    return f_.has(key) ? f_.get_string(key) : string_or("clip.projector_type", "");
  }
  const gguf::TensorInfo& tensor(const std::string& name, std::vector<std::uint64_t> ne) const {
    return require_tensor(f_, name, std::move(ne), "mmproj");
  }
  const gguf::TensorInfo* find(const std::string& name) const { return f_.find_tensor(name); }

 private:
  const gguf::File& f_;
};

}  // namespace

MmProjector::~MmProjector() = default;

std::unique_ptr<MmProjector> MmProjector::load(Context& ctx, const std::filesystem::path& path, std::uint32_t n_embd,
                                               std::uint64_t max_chunk) {
  std::unique_ptr<MmProjector> p(new MmProjector(ctx, gguf::File::open(path)));
  const gguf::File& f = p->file_;
  const MmprojFile m(f);
  if (f.architecture() != "clip")
    m.fail("general.architecture is '" + f.architecture() + "', not 'clip' (is this the model instead of its mmproj?)");
  MmProjectorInfo& info = p->info_;
  if (n_embd == 0) {  // the file's own projection width (benchmarks without a model)
    for (const char* name : {"mm.input_projection.weight", "mm.a.input_projection.weight"})
      if (const gguf::TensorInfo* t = m.find(name); t && t->ne.size() >= 2 && n_embd == 0)
        n_embd = static_cast<std::uint32_t>(t->ne[1]);
    if (n_embd == 0) m.fail("has no projection tensor (mm.input_projection.weight, mm.a.input_projection.weight)");
  }
  info.n_embd = n_embd;
  const std::string vtype = m.projector_type("vision"), atype = m.projector_type("audio");
  info.vision = m.bool_or("clip.has_vision_encoder", m.find("v.patch_embd.weight") != nullptr);
  info.audio = m.bool_or("clip.has_audio_encoder", m.find("mm.a.input_projection.weight") != nullptr);
  if (info.vision && vtype != "gemma4uv")
    m.fail("vision projector type '" + vtype + "' is not supported (Gemma 4's is 'gemma4uv')");
  if (info.audio && atype != "gemma4ua")
    m.fail("audio projector type '" + atype + "' is not supported (Gemma 4's is 'gemma4ua')");
  if (!info.vision && !info.audio) m.fail("has neither a vision nor an audio projector");

  // Pass 1: every shape, before anything is uploaded.
  const gguf::TensorInfo *ln1_w = nullptr, *ln1_b = nullptr, *embd = nullptr, *embd_b = nullptr, *proj = nullptr,
                         *pos = nullptr, *aproj = nullptr;
  std::vector<const gguf::TensorInfo*> norms;  // ln2 w, b, ln3 w, b
  if (info.vision) {
    info.patch_px = m.u32_or("clip.vision.patch_size", 16) * m.u32_or("clip.vision.projector.scale_factor", 3);
    const std::uint64_t patch_dim = 3ull * info.patch_px * info.patch_px;
    const gguf::TensorInfo* e = m.find("v.patch_embd.weight");
    if (!e) m.fail("tensor 'v.patch_embd.weight' is missing");
    if (e->ne.size() < 2) m.fail("tensor 'v.patch_embd.weight' is " + e->shape_string() + ", not a matrix");
    info.vision_width = static_cast<std::uint32_t>(e->ne[1]);
    const std::uint64_t vd = info.vision_width;
    embd = &m.tensor("v.patch_embd.weight", {patch_dim, vd});
    ln1_w = &m.tensor("v.patch_norm.1.weight", {patch_dim});
    ln1_b = &m.tensor("v.patch_norm.1.bias", {patch_dim});
    embd_b = &m.tensor("v.patch_embd.bias", {vd});
    for (const char* n : {"v.patch_norm.2.weight", "v.patch_norm.2.bias", "v.patch_norm.3.weight", "v.patch_norm.3.bias"})
      norms.push_back(&m.tensor(n, {vd}));
    const gguf::TensorInfo* pt = m.find("v.position_embd.weight");
    if (!pt) m.fail("tensor 'v.position_embd.weight' is missing");
    if (pt->ne.size() != 3 || pt->ne[0] != vd || pt->ne[2] != 2 || pt->ne[1] == 0)
      m.fail("tensor 'v.position_embd.weight' is " + pt->shape_string() + " but [" + std::to_string(vd) +
             ", rows, 2] is needed");
    pos = pt;
    info.pos_rows = static_cast<std::uint32_t>(pt->ne[1]);
    const gguf::TensorInfo* pr = m.find("mm.input_projection.weight");
    if (!pr) m.fail("tensor 'mm.input_projection.weight' is missing");
    if (pr->ne.size() >= 2 && pr->ne[1] != n_embd)
      m.fail("projects images to " + std::to_string(pr->ne[1]) + "-wide rows but the model is " + std::to_string(n_embd) +
             " wide (an mmproj of another model?)");
    proj = &m.tensor("mm.input_projection.weight", {vd, n_embd});
    info.eps_rms = m.eps_or("clip.vision.attention.layer_norm_epsilon", 1e-6f);
  }
  if (info.audio) {
    const gguf::TensorInfo* a = m.find("mm.a.input_projection.weight");
    if (!a) m.fail("tensor 'mm.a.input_projection.weight' is missing");
    if (a->ne.size() >= 2 && a->ne[1] != n_embd)
      m.fail("projects audio to " + std::to_string(a->ne[1]) + "-wide rows but the model is " + std::to_string(n_embd) +
             " wide (an mmproj of another model?)");
    aproj = &m.tensor("mm.a.input_projection.weight", {info.audio_frame, n_embd});
    info.eps_audio = m.eps_or("clip.audio.attention.layer_norm_epsilon", 1e-6f);
  }

  // Pass 2: upload.
  auto matrix = [&](const gguf::TensorInfo& t) {
    info.bytes += t.n_bytes;
    return upload_tensor(ctx, f, t, max_chunk);
  };
  if (info.vision) {
    p->ln1_w_ = upload_floats(ctx, tensor_floats(f, *ln1_w), "mmproj.ln1_w");
    p->ln1_b_ = upload_floats(ctx, tensor_floats(f, *ln1_b), "mmproj.ln1_b");
    std::vector<float> vecs = tensor_floats(f, *embd_b);
    for (const gguf::TensorInfo* t : norms) {
      const std::vector<float> v = tensor_floats(f, *t);
      vecs.insert(vecs.end(), v.begin(), v.end());
    }
    p->vecs_ = upload_floats(ctx, vecs, "mmproj.vecs");
    p->pos_ = upload_floats(ctx, tensor_floats(f, *pos), "mmproj.pos");
    for (const gguf::TensorInfo* t : {ln1_w, ln1_b, embd_b, pos}) info.bytes += t->n_bytes;
    for (const gguf::TensorInfo* t : norms) info.bytes += t->n_bytes;
    p->patch_embd_ = matrix(*embd);
    p->proj_ = matrix(*proj);
  }
  if (info.audio) p->audio_proj_ = matrix(*aproj);
  return p;
}

Buffer& MmProjector::scratch(std::size_t i, std::uint64_t bytes, const char* name) {
  if (scratch_[i].size() < bytes) scratch_[i] = Buffer::create(ctx_.device(), bytes, MemoryKind::Device, name);
  return scratch_[i];
}

MmRows MmProjector::project_image(std::span<const float> hwc, std::uint32_t width, std::uint32_t height) {
  const MmProjectorInfo& in = info_;
  const std::string where = "[mmproj] " + path_to_utf8(path()) + ": ";
  if (!in.vision) throw Error(where + "has no vision projector (an audio-only mmproj)");
  const std::uint32_t px = in.patch_px;
  if (width == 0 || height == 0 || width % px != 0 || height % px != 0)
    throw Error(where + "an image of " + std::to_string(width) + "x" + std::to_string(height) +
                " pixels is not a whole number of " + std::to_string(px) + "-pixel patches");
  const std::uint32_t cols = width / px, grid_rows = height / px, n = cols * grid_rows;
  if (cols > in.pos_rows || grid_rows > in.pos_rows)
    throw Error(where + "a " + std::to_string(cols) + "x" + std::to_string(grid_rows) +
                " patch grid exceeds the position table's " + std::to_string(in.pos_rows) + " entries per axis");
  if (hwc.size() != std::size_t{3} * width * height)
    throw Error(where + "image data has " + std::to_string(hwc.size()) + " floats, not " + std::to_string(width) + "x" +
                std::to_string(height) + "x3");
  const std::uint64_t patch_dim = 3ull * px * px, vd = in.vision_width;
  Buffer& img = scratch(0, 4 * hwc.size(), "mm.image");
  Buffer& patches = scratch(1, 4 * patch_dim * n, "mm.patches");
  Buffer& dense = scratch(2, 4 * vd * n, "mm.dense");
  Buffer& normed = scratch(3, 4 * vd * n, "mm.normed");
  upload(ctx_, std::as_bytes(hwc), img.range(0, 4 * hwc.size()));
  MmRows out{Buffer::create(ctx_.device(), 4ull * n * in.n_embd, MemoryKind::Device, "mm.rows"), n, in.n_embd};
  cmd_.begin();
  ops::patch_norm(ctx_, cmd_, img.range(), ln1_w_.range(), ln1_b_.range(), patches.range(), width, height, px,
                  in.eps_ln);
  ops::matmul(ctx_, cmd_, patch_embd_->type, patch_embd_->table(), patches.range(), dense.range(), n,
              static_cast<std::uint32_t>(patch_dim), in.vision_width);
  ops::vision_norms(ctx_, cmd_, dense.range(), vecs_.range(), pos_.range(), normed.range(), n, cols, in.vision_width,
                    in.pos_rows, in.eps_ln, in.eps_rms);
  ops::matmul(ctx_, cmd_, proj_->type, proj_->table(), normed.range(), out.range(), n, in.vision_width, in.n_embd);
  cmd_.submit_and_wait();
  return out;
}

MmRows MmProjector::project_audio(std::span<const float> samples) {
  const MmProjectorInfo& in = info_;
  const std::string where = "[mmproj] " + path_to_utf8(path()) + ": ";
  if (!in.audio) throw Error(where + "has no audio projector (a vision-only mmproj)");
  if (samples.empty()) throw Error(where + "audio of no samples");
  const std::uint32_t frame = in.audio_frame;
  const auto n = static_cast<std::uint32_t>((samples.size() + frame - 1) / frame);
  std::vector<float> frames(std::size_t{n} * frame, 0.0f);  // the tail zero-padded (spec §5)
  std::copy(samples.begin(), samples.end(), frames.begin());
  Buffer& in_buf = scratch(0, 4 * frames.size(), "mm.frames");
  Buffer& normed = scratch(3, 4 * frames.size(), "mm.normed");
  upload(ctx_, std::as_bytes(std::span<const float>(frames)), in_buf.range(0, 4 * frames.size()));
  MmRows out{Buffer::create(ctx_.device(), 4ull * n * in.n_embd, MemoryKind::Device, "mm.rows"), n, in.n_embd};
  cmd_.begin();
  ops::rms_norm(ctx_, cmd_, in_buf.range(), std::nullopt, normed.range(), n, frame, in.eps_audio);
  ops::matmul(ctx_, cmd_, audio_proj_->type, audio_proj_->table(), normed.range(), out.range(), n, frame, in.n_embd);
  cmd_.submit_and_wait();
  return out;
}

std::vector<float> MmProjector::read(const MmRows& rows) const {
  std::vector<float> v(std::size_t{rows.count} * rows.width);
  download(ctx_, rows.range(), std::as_writable_bytes(std::span(v)));
  return v;
}

}  // namespace tessera
