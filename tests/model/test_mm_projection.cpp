// The GPU multimodal projections (runtime/mm/mmproj.h: patch_norm, dense, vision_norms, projection;
// audio RMSNorm + projection) against the independent CPU oracle (tests/common/reference_mm.h) on
// factory mmproj files, for several image sizes (one patch, one row, one column, wide, tall) and
// audio lengths (1 sample, frame edges, 30 s), on the device's plan and on the minimal profile
// (shared-memory reductions). Then whole prompts: image and audio rows injected into the model
// against the text oracle fed the oracle's own rows, and the prompt expansion from real files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "runtime/media/image.h"
#include "runtime/mm/mm_prompt.h"
#include "runtime/mm/mmproj.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/tokenizer/tokenizer.h"
#include "tests/common/gpu_test.h"
#include "tests/common/reference_forward.h"
#include "tests/common/reference_mm.h"
#include "tests/factory/temp_dir.h"
#include "tools/factory/factory.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace tessera {
namespace {

std::vector<float> random_floats(std::size_t n, std::uint64_t seed, float lo, float hi) {
  std::vector<float> v(n);
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = lo + (hi - lo) * static_cast<float>((s >> 40) & 0xFFFFFF) / float(0x1000000);
  }
  return v;
}

// max |a - b| / max |b|
double rel_error(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return scale > 0 ? err / scale : err;
}

struct MmFiles {
  test::TempDir dir;
  std::filesystem::path model, mmproj;
};

// A factory model + mmproj pair (same preset and seed).
std::unique_ptr<MmFiles> write_pair(const char* preset, const char* type, std::uint64_t seed) {
  auto f = std::make_unique<MmFiles>();
  factory::FactoryOptions fo;
  fo.preset = factory::preset_by_name(preset);
  fo.type = factory::parse_type_choice(type);
  fo.seed = seed;
  f->model = f->dir.path() / "m.gguf";
  f->mmproj = f->dir.path() / "mmproj.gguf";
  factory::write_model(fo, f->model);
  factory::write_mmproj(fo, f->mmproj);
  return f;
}

class MmProjectionTest : public GpuTest {};

// Image sizes in pixels (w, h): one patch, one row of patches, one column, wide and tall grids.
constexpr std::pair<std::uint32_t, std::uint32_t> kImageSizes[] = {{48, 48}, {480, 48}, {48, 336}, {240, 144}, {144, 288}};
constexpr std::size_t kAudioLengths[] = {1, 639, 640, 641, 16000 + 17, 480000};

void check_projections(Context& c, const MmFiles& f, double tol) {
  const ref::ReferenceMmProj oracle = ref::ReferenceMmProj::load(f.mmproj);
  const auto proj = MmProjector::load(c, f.mmproj, oracle.n_embd());
  ASSERT_TRUE(proj->info().vision && proj->info().audio);
  std::uint64_t seed = 1;
  for (const auto& [w, h] : kImageSizes) {
    const std::vector<float> img = random_floats(std::size_t{3} * w * h, seed++, 0.0f, 1.0f);
    const MmRows rows = proj->project_image(img, w, h);
    ASSERT_EQ(rows.count, (w / 48) * (h / 48));
    const double e = rel_error(proj->read(rows), oracle.project_image(img, h, w));
    std::printf("[image %ux%u, %u tokens] max |gpu - ref| / max |ref| = %.3g\n", w, h, rows.count, e);
    EXPECT_LE(e, tol) << w << "x" << h;
  }
  for (const std::size_t n : kAudioLengths) {
    const std::vector<float> pcm = random_floats(n, seed++, -1.0f, 1.0f);
    const MmRows rows = proj->project_audio(pcm);
    ASSERT_EQ(rows.count, (n + 639) / 640);
    const double e = rel_error(proj->read(rows), oracle.project_audio(pcm));
    std::printf("[audio %zu samples, %u tokens] max |gpu - ref| / max |ref| = %.3g\n", n, rows.count, e);
    EXPECT_LE(e, tol) << n << " samples";
  }
}

TEST_F(MmProjectionTest, MatchesTheCpuReferenceF32) {
  const auto f = write_pair("tiny", "F32", 3);
  check_projections(ctx(), *f, 1e-4);
}

TEST_F(MmProjectionTest, MatchesTheCpuReferenceF16) {
  const auto f = write_pair("tiny", "F16", 4);
  check_projections(ctx(), *f, 2e-3);
}

// Shared-memory reductions (no subgroup arithmetic) and a small workgroup.
TEST_F(MmProjectionTest, MinimalProfileMatchesTheCpuReference) {
  EngineOptions opts = env_options();
  opts.profile = "minimal";
  const std::unique_ptr<Context> minimal = make_context(opts);
  const auto f = write_pair("tiny", "F16", 5);
  check_projections(*minimal, *f, 2e-3);
  EXPECT_TRUE(validation_clean(*minimal));
}

TEST_F(MmProjectionTest, BadInputsAreClearErrors) {
  const auto f = write_pair("tiny", "F16", 6);
  const auto expect_error = [](auto&& fn, const char* needle) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // Another model's width, the model file instead of the mmproj, a missing file.
  expect_error([&] { MmProjector::load(ctx(), f->mmproj, 3840); }, "3840");
  expect_error([&] { MmProjector::load(ctx(), f->model, 64); }, "clip");
  expect_error([&] { MmProjector::load(ctx(), f->dir.path() / "nope.gguf", 64); }, "nope.gguf");
  const auto proj = MmProjector::load(ctx(), f->mmproj, 64);
  const std::vector<float> img(3 * 50 * 48, 0.5f);
  expect_error([&] { proj->project_image(img, 50, 48); }, "48-pixel patches");
  const std::vector<float> wide(std::size_t{3} * 1121 * 48 * 48, 0.5f);
  expect_error([&] { proj->project_image(wide, 1121 * 48, 48); }, "position table");
  expect_error([&] { proj->project_audio({}); }, "no samples");
  // A truncated mmproj.
  const auto cut = f->dir.path() / "cut.gguf";
  std::filesystem::copy_file(f->mmproj, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
  expect_error([&] { MmProjector::load(ctx(), cut, 64); }, "cut.gguf");
}

// Prompts with media through the whole model: the GPU's rows injected unscaled against the text
// oracle fed the multimodal oracle's rows. An image block (bidirectional on sliding layers) and an
// audio run (causal) that crosses the 16-token ubatch cut.
TEST_F(MmProjectionTest, InjectedRowsMatchTheCpuReference) {
  const auto f = write_pair("tiny", "F16", 7);
  const ref::ReferenceModel oracle = ref::ReferenceModel::load(f->model);
  const ref::ReferenceMmProj mm_oracle = ref::ReferenceMmProj::load(f->mmproj);
  ModelLoadOptions lo;
  lo.n_ctx = 128;
  lo.n_ubatch = 16;
  const auto model = Gemma4Model::load(ctx(), f->model, lo);
  const Tokenizer tok = Tokenizer::from_gguf(model->file());
  const MmTokens t = MmTokens::from(tok);
  const auto proj = MmProjector::load(ctx(), f->mmproj, model->hparams().n_embd);

  const std::vector<float> img = random_floats(3 * 144 * 96, 11, 0.0f, 1.0f);  // 3 x 2 = 6 tokens
  const std::vector<float> pcm = random_floats(640 * 9 + 100, 12, -0.5f, 0.5f);   // 10 tokens
  const MmRows img_rows = proj->project_image(img, 144, 96);
  const MmRows aud_rows = proj->project_audio(pcm);
  std::vector<std::uint32_t> ids = {2, 40, 41, t.boi};
  const auto img_begin = static_cast<std::uint32_t>(ids.size());
  ids.insert(ids.end(), img_rows.count, t.image);
  ids.insert(ids.end(), {t.eoi, 42, t.boa});
  const auto aud_begin = static_cast<std::uint32_t>(ids.size());  // 13: the audio crosses the cut at 16
  ids.insert(ids.end(), aud_rows.count, t.audio);
  ids.insert(ids.end(), {t.eoa, 43, 44});
  const std::vector<TokenBlock> blocks = {{img_begin, img_begin + img_rows.count}};
  const std::vector<InjectedRows> embeds = {{img_begin, img_rows.count, img_rows.range()},
                                            {aud_begin, aud_rows.count, aud_rows.range()}};
  Gemma4Session session(*model, {128, 16});
  const std::vector<float> got = session.decode(ids, true, DecodeExtras{blocks, embeds});

  const std::vector<ref::Block> ref_blocks = {{img_begin, img_begin + img_rows.count}};
  const std::vector<ref::EmbedRows> ref_embeds = {{img_begin, mm_oracle.project_image(img, 96, 144)},
                                                  {aud_begin, mm_oracle.project_audio(pcm)}};
  const std::vector<float> want = oracle.forward(ids, ref_blocks, ref_embeds);
  const std::vector<float> plain = oracle.forward(ids, ref_blocks);  // placeholder embeddings instead
  double err = 0, moved = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (std::isinf(want[i])) continue;
    err = std::max(err, double(std::fabs(got[i] - want[i])));
    moved = std::max(moved, double(std::fabs(plain[i] - want[i])));
  }
  std::printf("[image + audio prompt] max |gpu - ref| = %.3g; the rows move the logits by %.3g\n", err, moved);
  EXPECT_LE(err, 2e-2);
  EXPECT_GT(moved, 10 * err);

  // Bad extras: rows past the ids, overlapping runs, too few bytes. Nothing is fed.
  session.reset();
  const std::vector<InjectedRows> past = {{static_cast<std::uint32_t>(ids.size()) - 2, 6, img_rows.range()}};
  EXPECT_THROW(session.decode(ids, false, DecodeExtras{{}, past}), Error);
  const std::vector<InjectedRows> overlap = {{4, 6, img_rows.range()}, {8, 6, img_rows.range()}};
  EXPECT_THROW(session.decode(ids, false, DecodeExtras{{}, overlap}), Error);
  const std::vector<InjectedRows> short_rows = {{4, 7, img_rows.range()}};
  EXPECT_THROW(session.decode(ids, false, DecodeExtras{{}, short_rows}), Error);
  EXPECT_EQ(session.n_past(), 0u);
}

// expand_prompt from files: placeholders become <|image> N x <|image|> <image|> with N from the
// budget policy, each image a block; a bad file or a placeholder count mismatch is an error that
// names the cause.
TEST_F(MmProjectionTest, PromptExpansionFromFiles) {
  const auto f = write_pair("tiny", "F16", 8);
  ModelLoadOptions lo;
  lo.n_ctx = 256;
  lo.n_ubatch = 128;
  const auto model = Gemma4Model::load(ctx(), f->model, lo);
  const Tokenizer tok = Tokenizer::from_gguf(model->file());
  const MmTokens t = MmTokens::from(tok);
  const auto proj = MmProjector::load(ctx(), f->mmproj, model->hparams().n_embd);
  const std::vector<float> px = random_floats(3 * 200 * 120, 13, 0.0f, 1.0f);
  std::vector<unsigned char> bytes(px.size());
  for (std::size_t i = 0; i < px.size(); ++i) bytes[i] = static_cast<unsigned char>(px[i] * 255.0f);
  const auto png = f->dir.path() / "a.png";
  ASSERT_NE(stbi_write_png(png.string().c_str(), 200, 120, 3, bytes.data(), 200 * 3), 0);
  const auto bad = f->dir.path() / "bad.png";
  std::ofstream(bad, std::ios::binary) << "\x89PNG\r\n\x1a\n garbage";

  const auto enc = tok.encode("<bos>look <|image|> and <|image|> here", false, true);
  const std::vector<std::uint32_t> ids(enc.begin(), enc.end());
  MmPromptOptions mo;
  mo.image_tokens = 70;
  const std::vector<MediaInput> two = {{MediaKind::image, png}, {MediaKind::image, png}};
  const MmPrompt p = expand_prompt(ids, two, proj.get(), tok, mo);
  const media::ImageSize size = media::image_target_size(200, 120, 70);
  ASSERT_EQ(p.blocks.size(), 2u);
  ASSERT_EQ(p.embeds.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const TokenBlock& b = p.blocks[i];
    EXPECT_EQ(b.end - b.begin, size.tokens());
    EXPECT_EQ(p.ids[b.begin - 1], t.boi);
    EXPECT_EQ(p.ids[b.end], t.eoi);
    for (std::uint32_t j = b.begin; j < b.end; ++j) EXPECT_EQ(p.ids[j], t.image);
    EXPECT_EQ(p.embeds[i].begin, b.begin);
    EXPECT_EQ(p.embeds[i].count, b.end - b.begin);
  }
  EXPECT_EQ(p.ids.size(), ids.size() + 2 * (size.tokens() + 1));
  EXPECT_EQ(p.largest_block(), size.tokens());
  // The same image gives the same rows as projecting its decoded, resized pixels directly.
  const media::Image prepared = media::prepare_image(media::load_image(png), 70);
  const MmRows direct = proj->project_image(prepared.rgb, prepared.width, prepared.height);
  EXPECT_EQ(proj->read(direct), proj->read(*p.rows[0]));

  const std::vector<MediaInput> one = {{MediaKind::image, png}};
  EXPECT_THROW(expand_prompt(ids, one, proj.get(), tok, mo), Error);  // 2 placeholders, 1 image
  const std::vector<MediaInput> corrupt = {{MediaKind::image, png}, {MediaKind::image, bad}};
  try {
    expand_prompt(ids, corrupt, proj.get(), tok, mo);
    ADD_FAILURE() << "a corrupt image was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(expand_prompt(ids, two, nullptr, tok, mo), Error);  // no projector
}

}  // namespace
}  // namespace tessera
