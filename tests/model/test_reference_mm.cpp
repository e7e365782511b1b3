// The multimodal CPU oracle (tests/common/reference_mm.h) against independent hand computations
// on tiny factory mmproj files: the CHW patch order, which position rows each patch adds, the
// norms, audio framing and padding, errors; and the text oracle's injected embedding rows
// (tests/common/reference_forward.h), which must go in unscaled. CPU only.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "common/reference_forward.h"
#include "common/reference_mm.h"
#include "common/tools.h"
#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "runtime/quant/dequant.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using ref::ReferenceMmProj;

// ---- helpers ----

fs::path factory_mmproj(const test::TempDir& dir, const std::string& name, const char* type = "F32",
                        std::uint32_t pos_size = 1120, std::uint64_t seed = 3) {
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name("tiny");
  o.preset.mmproj.pos_size = pos_size;
  o.type = factory::parse_type_choice(type);
  o.seed = seed;
  o.threads = 2;
  const fs::path path = dir / name;
  factory::write_mmproj(o, path);
  return path;
}

// Copies a GGUF with its metadata edited: `drop` keys left out, then `add` sets more.
void copy_with_metadata(const fs::path& src, const fs::path& dst, const std::set<std::string>& drop,
                        const std::function<void(gguf::Writer&)>& add) {
  const gguf::File f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [key, value] : f.metadata())
    if (!drop.contains(key)) w.set(key, value);
  add(w);
  for (const gguf::TensorInfo& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne);
  w.begin(dst);
  for (const gguf::TensorInfo& t : f.tensors()) w.write_data(f.data(t));
  w.finish();
}

// A tensor of the file as f32 (F32 files: the raw bytes).
std::vector<float> raw(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  return dequantize(t.type, f.data(t), static_cast<std::int64_t>(t.n_elements));
}

// The raw tensors of an mmproj, as plain arrays for the hand computations.
struct RawMm {
  explicit RawMm(const fs::path& path) {
    const gguf::File f = gguf::File::open(path);
    ln1w = raw(f, "v.patch_norm.1.weight"), ln1b = raw(f, "v.patch_norm.1.bias");
    pw = raw(f, "v.patch_embd.weight"), pb = raw(f, "v.patch_embd.bias");
    ln2w = raw(f, "v.patch_norm.2.weight"), ln2b = raw(f, "v.patch_norm.2.bias");
    pos = raw(f, "v.position_embd.weight");
    ln3w = raw(f, "v.patch_norm.3.weight"), ln3b = raw(f, "v.patch_norm.3.bias");
    proj = raw(f, "mm.input_projection.weight"), aproj = raw(f, "mm.a.input_projection.weight");
    d = pb.size();
    pos_rows = f.tensor("v.position_embd.weight").ne[1];
  }
  std::vector<float> ln1w, ln1b, pw, pb, ln2w, ln2b, pos, ln3w, ln3b, proj, aproj;
  std::size_t d = 0, pos_rows = 0;
};

// Plain-float LayerNorm, written out again for the hand computations.
void hand_layer_norm(std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b) {
  float mean = 0;
  for (float v : x) mean += v;
  mean /= static_cast<float>(x.size());
  float var = 0;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= static_cast<float>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (x[i] - mean) / std::sqrt(var + 1e-5f) * w[i] + b[i];
}

// Spec §4.2 for the patch at grid (gx, gy) of an HWC image `w` pixels wide, step by step in
// plain float loops from the raw tensors.
std::vector<float> hand_patch(const RawMm& t, const std::vector<float>& img, std::size_t w, std::size_t gx,
                              std::size_t gy, float rms_eps = 1e-6f) {
  std::vector<float> p(6912);  // CHW: c·2304 + r·48 + col
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t r = 0; r < 48; ++r)
      for (std::size_t col = 0; col < 48; ++col)
        p[c * 2304 + r * 48 + col] = img[((gy * 48 + r) * w + gx * 48 + col) * 3 + c];
  hand_layer_norm(p, t.ln1w, t.ln1b);
  std::vector<float> e(t.d);
  for (std::size_t o = 0; o < t.d; ++o) {
    float s = t.pb[o];
    for (std::size_t i = 0; i < 6912; ++i) s += t.pw[o * 6912 + i] * p[i];
    e[o] = s;
  }
  hand_layer_norm(e, t.ln2w, t.ln2b);
  for (std::size_t i = 0; i < t.d; ++i)
    e[i] += t.pos[gx * t.d + i] + t.pos[(t.pos_rows + gy) * t.d + i];  // x table, then the y table
  hand_layer_norm(e, t.ln3w, t.ln3b);
  float ss = 0;
  for (float v : e) ss += v * v;
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(t.d) + rms_eps);
  std::vector<float> out(t.d);
  for (std::size_t o = 0; o < t.d; ++o) {
    float s = 0;
    for (std::size_t i = 0; i < t.d; ++i) s += t.proj[o * t.d + i] * e[i] * inv;
    out[o] = s;
  }
  return out;
}

// Spec §5 for one frame (zero-padded to 640) in plain floats.
std::vector<float> hand_frame(const RawMm& t, std::span<const float> samples) {
  std::vector<float> x(640, 0.0f);
  std::copy(samples.begin(), samples.end(), x.begin());
  float ss = 0;
  for (float v : x) ss += v * v;
  const float inv = 1.0f / std::sqrt(ss / 640.0f + 1e-6f);
  std::vector<float> out(t.d);
  for (std::size_t o = 0; o < t.d; ++o) {
    float s = 0;
    for (std::size_t i = 0; i < 640; ++i) s += t.aproj[o * 640 + i] * x[i] * inv;
    out[o] = s;
  }
  return out;
}

// Expects got[row r] == want (n values) within atol + rtol·|want|.
void expect_row_near(const std::vector<float>& got, std::size_t r, const std::vector<float>& want, double tol,
                     const std::string& what) {
  ASSERT_GE(got.size(), (r + 1) * want.size()) << what;
  for (std::size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[r * want.size() + i], want[i], tol * (1.0 + std::fabs(want[i]))) << what << ", value " << i;
}

float pseudo(std::size_t i) {  // deterministic values in [0, 1)
  return static_cast<float>((i * 2654435761u) % 1000003u) / 1000003.0f;
}

// ---- building blocks ----

TEST(ReferenceMmOps, LayerNormSubtractsTheMeanAndAddsTheBias) {
  std::vector<float> x = {1, 2, 3, 4};  // mean 2.5, variance 1.25
  const std::vector<float> w = {1, 1, 2, 0.5f}, b = {0, 1, 0, -1};
  ref::layer_norm(x, w, b, 1e-5);
  EXPECT_NEAR(x[0], -1.3416354199689269, 1e-6);
  EXPECT_NEAR(x[1], 0.552788193343691, 1e-6);
  EXPECT_NEAR(x[2], 0.894423613312618, 1e-6);
  EXPECT_NEAR(x[3], -0.32918229001553656, 1e-6);
  std::vector<float> y = {2, -2, 2, -2};  // no weight, no bias: ±1 shrunk by eps
  ref::layer_norm(y, {}, {}, 1e-5);
  EXPECT_NEAR(y[0], 0.9999987500023437, 1e-7);
  EXPECT_NEAR(y[3], -0.9999987500023437, 1e-7);
}

TEST(ReferenceMmOps, WeightlessRmsNormOfAKnownVector) {
  std::vector<float> x = {3, 4};  // mean(x²) = 12.5, no mean subtraction
  ref::rms_norm(x, {}, 1e-6);
  EXPECT_NEAR(x[0], 0.8485281034827337, 1e-7);
  EXPECT_NEAR(x[1], 1.1313708046436448, 1e-7);
}

TEST(ReferenceMmOps, PatchVectorIsTheChwBlockOfTheMergedPatch) {
  const std::uint32_t w = 96, h = 144;  // grid 2 x 3
  auto code = [](std::size_t x, std::size_t y, std::size_t c) {
    return static_cast<float>(x + 1000 * y + 1000000 * c);
  };
  std::vector<float> img(std::size_t{w} * h * 3);
  for (std::size_t y = 0; y < h; ++y)
    for (std::size_t x = 0; x < w; ++x)
      for (std::size_t c = 0; c < 3; ++c) img[(y * w + x) * 3 + c] = code(x, y, c);
  const std::vector<float> v = ReferenceMmProj::patch_vector(img, w, 1, 2);  // pixels x 48..95, y 96..143
  ASSERT_EQ(v.size(), 6912u);
  EXPECT_EQ(v[0], code(48, 96, 0));      // channel outermost, then row, then column
  EXPECT_EQ(v[1], code(49, 96, 0));
  EXPECT_EQ(v[47], code(95, 96, 0));
  EXPECT_EQ(v[48], code(48, 97, 0));
  EXPECT_EQ(v[2303], code(95, 143, 0));
  EXPECT_EQ(v[2304], code(48, 96, 1));
  EXPECT_EQ(v[4608 + 5 * 48 + 7], code(55, 101, 2));
  EXPECT_EQ(v[6911], code(95, 143, 2));
  for (std::size_t i = 0; i < v.size(); ++i)
    ASSERT_EQ(v[i], code(48 + i % 48, 96 + (i % 2304) / 48, i / 2304)) << i;
  EXPECT_EQ(ReferenceMmProj::patch_vector(img, w, 0, 0)[0], code(0, 0, 0));
}

// ---- image ----

TEST(ReferenceMmImage, PositionRowsFollowTheGrid) {
  test::TempDir dir;
  const fs::path path = factory_mmproj(dir, "mm.gguf");
  const ReferenceMmProj mm = ReferenceMmProj::load(path);
  const RawMm t(path);
  ASSERT_TRUE(mm.has_vision());
  ASSERT_TRUE(mm.has_audio());
  ASSERT_EQ(mm.n_embd(), 64u);
  ASSERT_EQ(mm.pos_rows(), 1120u);
  ASSERT_EQ(t.pos_rows, 1120u);

  // Two patches p = 0, 1 of the same content laid out as 1 row x 2 cols (48x96, w = 96) and as
  // 2 rows x 1 col (96x48, w = 48). Content of patch p at (r, col, c): pseudo(...).
  auto block = [](std::size_t p, std::size_t r, std::size_t col, std::size_t c) {
    return pseudo(((p * 48 + r) * 48 + col) * 3 + c);
  };
  std::vector<float> wide(48 * 96 * 3), tall(96 * 48 * 3);
  for (std::size_t y = 0; y < 48; ++y)
    for (std::size_t x = 0; x < 96; ++x)
      for (std::size_t c = 0; c < 3; ++c) wide[(y * 96 + x) * 3 + c] = block(x / 48, y, x % 48, c);
  for (std::size_t y = 0; y < 96; ++y)
    for (std::size_t x = 0; x < 48; ++x)
      for (std::size_t c = 0; c < 3; ++c) tall[(y * 48 + x) * 3 + c] = block(y / 48, y % 48, x, c);

  const std::vector<float> a = mm.project_image(wide, 48, 96), b = mm.project_image(tall, 96, 48);
  ASSERT_EQ(a.size(), 2u * 64);
  ASSERT_EQ(b.size(), 2u * 64);
  expect_row_near(a, 0, hand_patch(t, wide, 96, 0, 0), 1e-4, "48x96 patch 0 (x row 0, y row 1120)");
  expect_row_near(a, 1, hand_patch(t, wide, 96, 1, 0), 1e-4, "48x96 patch 1 (x row 1, y row 1120)");
  expect_row_near(b, 0, hand_patch(t, tall, 48, 0, 0), 1e-4, "96x48 patch 0 (x row 0, y row 1120)");
  expect_row_near(b, 1, hand_patch(t, tall, 48, 0, 1), 1e-4, "96x48 patch 1 (x row 0, y row 1121)");
  // Same pixels and position (0, 0): identical; patch 1 at (1, 0) vs (0, 1): the x and y tables differ.
  EXPECT_TRUE(std::equal(a.begin(), a.begin() + 64, b.begin()));
  double diff = 0;
  for (std::size_t i = 64; i < 128; ++i) diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
  EXPECT_GT(diff, 1e-2);
}

TEST(ReferenceMmImage, ShortPositionTableUsesItsOwnRowCount) {
  test::TempDir dir;
  const fs::path path = factory_mmproj(dir, "mm3.gguf", "F32", 3);
  const ReferenceMmProj mm = ReferenceMmProj::load(path);
  const RawMm t(path);
  ASSERT_EQ(mm.pos_rows(), 3u);
  std::vector<float> img(144 * 144 * 3);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = pseudo(i + 17);
  const std::vector<float> out = mm.project_image(img, 144, 144);  // grid 3 x 3
  ASSERT_EQ(out.size(), 9u * 64);
  // Patch p = 1·3 + 2 at (2, 1): x row 2, y row 3 + 1 = 4.
  expect_row_near(out, 5, hand_patch(t, img, 144, 2, 1), 1e-4, "patch (2, 1) of a 3-row table");
  expect_row_near(out, 8, hand_patch(t, img, 144, 2, 2), 1e-4, "patch (2, 2) of a 3-row table");
  // A 4th column or row is past the table.
  const std::vector<float> wide(48 * 192 * 3, 0.5f);
  EXPECT_THROW(mm.project_image(wide, 48, 192), Error);
  EXPECT_THROW(mm.project_image(wide, 192, 48), Error);
  EXPECT_NO_THROW(mm.project_image(std::span<const float>(wide).first(48 * 144 * 3), 48, 144));
}

TEST(ReferenceMmImage, NearlyFlatPatchShowsTheLayerNormEps) {
  // Pixel variance ~1e-7 << eps: the 1e-5 of torch.nn.LayerNorm sets the scale of patch_ln1's output.
  test::TempDir dir;
  const fs::path path = factory_mmproj(dir, "mm.gguf");
  const ReferenceMmProj mm = ReferenceMmProj::load(path);
  const RawMm t(path);
  std::vector<float> img(48 * 48 * 3);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = 1e-3f * pseudo(i);  // no offset: float sums stay accurate
  expect_row_near(mm.project_image(img, 48, 48), 0, hand_patch(t, img, 48, 0, 0), 1e-4, "flat patch");
}

TEST(ReferenceMmImage, QuantizedFileIsCloseToItsF32Twin) {
  test::TempDir dir;
  const ReferenceMmProj f32 = ReferenceMmProj::load(factory_mmproj(dir, "a.gguf", "F32"));
  const ReferenceMmProj bf16 = ReferenceMmProj::load(factory_mmproj(dir, "b.gguf", "BF16"));
  std::vector<float> img(48 * 48 * 3);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = pseudo(i);
  const std::vector<float> a = f32.project_image(img, 48, 48), b = bf16.project_image(img, 48, 48);
  ASSERT_EQ(a.size(), b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(a[i]) * a[i];
  }
  EXPECT_GT(den, 0.0);
  EXPECT_LT(num / den, 1e-3);  // bf16 projection weights: NMSE ~1e-5
}

TEST(ReferenceMmImage, BadSizesAreErrors) {
  test::TempDir dir;
  const ReferenceMmProj mm = ReferenceMmProj::load(factory_mmproj(dir, "mm.gguf"));
  EXPECT_THROW(mm.project_image(std::vector<float>(47 * 48 * 3), 47, 48), Error);
  EXPECT_THROW(mm.project_image(std::vector<float>(48 * 50 * 3), 48, 50), Error);
  EXPECT_THROW(mm.project_image(std::vector<float>(), 0, 48), Error);
  EXPECT_THROW(mm.project_image(std::vector<float>(48 * 48 * 3 - 1), 48, 48), Error);  // wrong value count
}

// ---- audio ----

TEST(ReferenceMmAudio, FramesAreZeroPaddedTo640) {
  test::TempDir dir;
  const fs::path path = factory_mmproj(dir, "mm.gguf");
  const ReferenceMmProj mm = ReferenceMmProj::load(path);
  const RawMm t(path);
  std::vector<float> s(641);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = 2.0f * pseudo(i + 5) - 1.0f;

  // 1 sample: frame [s0, 0, ...]: out[o] = W[o][0] · s0 / sqrt(s0²/640 + 1e-6).
  const std::vector<float> one = mm.project_audio(std::span<const float>(s).first(1));
  ASSERT_EQ(one.size(), 64u);
  const double e0 = s[0] / std::sqrt(static_cast<double>(s[0]) * s[0] / 640 + 1e-6);
  for (std::size_t o = 0; o < 64; ++o) ASSERT_NEAR(one[o], t.aproj[o * 640] * e0, 1e-5 * (1 + std::fabs(one[o])));
  expect_row_near(one, 0, hand_frame(t, std::span<const float>(s).first(1)), 1e-5, "1 sample");

  const std::vector<float> full = mm.project_audio(std::span<const float>(s).first(640));
  ASSERT_EQ(full.size(), 64u);  // exactly one frame
  expect_row_near(full, 0, hand_frame(t, std::span<const float>(s).first(640)), 1e-4, "640 samples");

  const std::vector<float> two = mm.project_audio(s);  // 641: a second frame of 1 sample + 639 zeros
  ASSERT_EQ(two.size(), 128u);
  EXPECT_TRUE(std::equal(full.begin(), full.end(), two.begin()));
  const std::vector<float> last = mm.project_audio(std::span<const float>(s).subspan(640));
  EXPECT_TRUE(std::equal(last.begin(), last.end(), two.begin() + 64));
  expect_row_near(two, 1, hand_frame(t, std::span<const float>(s).subspan(640)), 1e-5, "sample 640 alone");

  // A quiet frame (mean square ~3e-7): the RMSNorm's eps 1e-6 counts.
  std::vector<float> quiet(640);
  for (std::size_t i = 0; i < quiet.size(); ++i) quiet[i] = 1e-3f * (2.0f * pseudo(i + 11) - 1.0f);
  expect_row_near(mm.project_audio(quiet), 0, hand_frame(t, quiet), 1e-5, "quiet frame");

  EXPECT_THROW(mm.project_audio({}), Error);
}

// ---- projector keys ----

TEST(ReferenceMmLoad, GenericProjectorTypeKeySelectsOneModality) {
  test::TempDir dir;
  const fs::path both = factory_mmproj(dir, "mm.gguf");
  const std::set<std::string> typed = {"clip.vision.projector_type", "clip.audio.projector_type"};
  auto with_generic = [&](const std::string& name, const std::string& type) {
    copy_with_metadata(both, dir / name, typed, [&](gguf::Writer& w) { w.set_string("clip.projector_type", type); });
    return dir / name;
  };
  std::vector<float> img(48 * 48 * 3, 0.25f);
  img[7] = 0.9f;
  const std::vector<float> samples(700, 0.1f);
  const ReferenceMmProj ref_both = ReferenceMmProj::load(both);

  const ReferenceMmProj vis = ReferenceMmProj::load(with_generic("v.gguf", "gemma4uv"));
  EXPECT_TRUE(vis.has_vision());
  EXPECT_FALSE(vis.has_audio());
  EXPECT_EQ(vis.project_image(img, 48, 48), ref_both.project_image(img, 48, 48));
  EXPECT_THROW(vis.project_audio(samples), Error);

  const ReferenceMmProj aud = ReferenceMmProj::load(with_generic("a.gguf", "gemma4ua"));
  EXPECT_FALSE(aud.has_vision());
  EXPECT_TRUE(aud.has_audio());
  EXPECT_EQ(aud.n_embd(), 64u);
  EXPECT_EQ(aud.project_audio(samples), ref_both.project_audio(samples));
  EXPECT_THROW(aud.project_image(img, 48, 48), Error);

  EXPECT_THROW(ReferenceMmProj::load(with_generic("x.gguf", "gemma3")), Error);
}

TEST(ReferenceMmLoad, VisionRmsEpsComesFromTheFile) {
  test::TempDir dir;
  const fs::path path = factory_mmproj(dir, "mm.gguf");
  copy_with_metadata(path, dir / "eps.gguf", {"clip.vision.attention.layer_norm_epsilon"},
                     [](gguf::Writer& w) { w.set_f32("clip.vision.attention.layer_norm_epsilon", 0.5f); });
  const ReferenceMmProj mm = ReferenceMmProj::load(dir / "eps.gguf");
  const RawMm t(path);
  std::vector<float> img(48 * 48 * 3);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = pseudo(i + 3);
  expect_row_near(mm.project_image(img, 48, 48), 0, hand_patch(t, img, 48, 0, 0, 0.5f), 1e-4, "eps 0.5");
}

TEST(ReferenceMmLoad, TextModelIsNotAnMmproj) {
  test::TempDir dir;
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name("tiny");
  o.threads = 2;
  factory::write_model(o, dir / "m.gguf");
  EXPECT_THROW(ReferenceMmProj::load(dir / "m.gguf"), Error);
}

// ---- injected rows in the text oracle ----

class ReferenceInject : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    factory::FactoryOptions o;
    o.preset = factory::preset_by_name("tiny");
    o.type = factory::parse_type_choice("F32");
    o.seed = 5;
    o.threads = 2;
    factory::write_model(o, *dir_ / "m.gguf");
    factory::write_mmproj(o, *dir_ / "mm.gguf");
    model_ = new ref::ReferenceModel(ref::ReferenceModel::load(*dir_ / "m.gguf"));
    embd_ = new std::vector<float>(raw(gguf::File::open(*dir_ / "m.gguf"), "token_embd.weight"));
  }
  static void TearDownTestSuite() {
    delete embd_;
    delete model_;
    delete dir_;
  }
  // √d · token_embd[id], as the oracle scales a text token (f32 sqrtf(d)).
  static std::vector<float> scaled_row(std::uint32_t id) {
    const std::size_t d = model_->hparams().n_embd;
    const float scale = std::sqrt(static_cast<float>(d));
    std::vector<float> r(d);
    for (std::size_t i = 0; i < d; ++i) r[i] = (*embd_)[id * d + i] * scale;
    return r;
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline ref::ReferenceModel* model_ = nullptr;
  static inline std::vector<float>* embd_ = nullptr;
};

TEST_F(ReferenceInject, ScaledTokenRowsReproduceFeedingTheTokens) {
  const std::vector<std::uint32_t> ids = {2, 17, 101, 44, 300, 9, 250, 71};
  std::vector<std::uint32_t> holes = ids;
  holes[3] = 0;
  holes[4] = 0xFFFFFFFFu;  // injected positions: the id is ignored, even outside the vocabulary
  ref::EmbedRows e{3, scaled_row(ids[3])};
  const std::vector<float> r4 = scaled_row(ids[4]);
  e.rows.insert(e.rows.end(), r4.begin(), r4.end());
  const std::vector<ref::EmbedRows> embeds = {e};

  const std::vector<float> want = model_->forward(ids), got = model_->forward(holes, {}, embeds);
  ASSERT_EQ(got.size(), want.size());
  double max = 0;
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::isfinite(want[i])) max = std::max(max, std::fabs(static_cast<double>(got[i]) - want[i]));
  EXPECT_LE(max, 1e-5);
  EXPECT_EQ(model_->logits_from_hidden(model_->hidden_states(holes, {}, embeds)), got);
}

TEST_F(ReferenceInject, RowsGoInUnscaled) {
  const std::size_t d = model_->hparams().n_embd;
  const std::vector<std::uint32_t> ids = {5, 6, 7, 8};
  std::vector<float> row(d);
  for (std::size_t i = 0; i < d; ++i) row[i] = 0.01f * static_cast<float>(i) - 0.3f;
  const std::vector<ref::EmbedRows> embeds = {{2, row}};
  const std::vector<float> x = model_->residual(ids, 0, {}, embeds);
  EXPECT_TRUE(std::equal(row.begin(), row.end(), x.begin() + 2 * d));  // as given, no √d
  const std::vector<float> s1 = scaled_row(6);
  EXPECT_TRUE(std::equal(s1.begin(), s1.end(), x.begin() + d));  // text tokens keep √d

  // Raw token_embd[7] injected is not token 7 (which is scaled); positions before it are untouched.
  const std::vector<float> raw7(embd_->begin() + 7 * d, embd_->begin() + 8 * d);
  const std::vector<ref::EmbedRows> unscaled = {{2, raw7}};
  const std::vector<float> fed = model_->forward(ids), inj = model_->forward(ids, {}, unscaled);
  const std::size_t V = model_->hparams().n_vocab;
  EXPECT_TRUE(std::equal(fed.begin(), fed.begin() + 2 * V, inj.begin()));
  EXPECT_FALSE(std::equal(fed.begin() + 2 * V, fed.begin() + 3 * V, inj.begin() + 2 * V));
}

TEST_F(ReferenceInject, BadRowsAreErrors) {
  const std::size_t d = model_->hparams().n_embd;
  const std::vector<std::uint32_t> ids = {5, 6, 7, 8};
  auto fwd = [&](std::vector<ref::EmbedRows> e) { return model_->forward(ids, {}, e); };
  EXPECT_THROW(fwd({{0, std::vector<float>(d + 1)}}), Error);      // not whole rows
  EXPECT_THROW(fwd({{3, std::vector<float>(2 * d)}}), Error);      // runs past the ids
  EXPECT_THROW(fwd({{5, std::vector<float>(d)}}), Error);          // starts past the ids
  EXPECT_THROW(fwd({{0, std::vector<float>(2 * d)}, {1, std::vector<float>(d)}}), Error);  // overlap
  const std::vector<ref::EmbedRows> past = {{4, std::vector<float>(d)}};
  EXPECT_THROW(model_->residual(ids, 0, {}, past), Error);
  EXPECT_NO_THROW(fwd({{4, {}}}));  // zero rows at the end: nothing injected
}

TEST_F(ReferenceInject, AudioAndImageRowsRunThroughTheTextOracle) {
  const ReferenceMmProj mm = ReferenceMmProj::load(*dir_ / "mm.gguf");
  ASSERT_EQ(mm.n_embd(), model_->hparams().n_embd);
  std::vector<float> img(48 * 96 * 3), wav(1000);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = pseudo(i);
  for (std::size_t i = 0; i < wav.size(); ++i) wav[i] = 2.0f * pseudo(i + 9) - 1.0f;
  const std::vector<ref::EmbedRows> embeds = {{2, mm.project_image(img, 48, 96)}, {5, mm.project_audio(wav)}};
  const std::vector<std::uint32_t> ids = {2, 3, 0, 0, 4, 0, 0, 6};
  const std::vector<ref::Block> blocks = {{2, 4}};
  const std::vector<float> logits = model_->forward(ids, blocks, embeds), plain = model_->forward(ids, blocks);
  ASSERT_EQ(logits.size(), ids.size() * model_->hparams().n_vocab);
  for (const float v : logits) ASSERT_FALSE(std::isnan(v));
  EXPECT_NE(logits, plain);
}

}  // namespace
}  // namespace tessera
