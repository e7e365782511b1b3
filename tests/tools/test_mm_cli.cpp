// Images, audio and video through the `tessera` binary on a tiny factory model and its mmproj:
// --dump-logits of an image + audio prompt against the CPU oracles (the multimodal projection and
// the text forward, both from the spec), placeholders and their errors, chat's /image and /audio
// with a bad file in between (the chat goes on), video folders, bad input of every kind, and
// `bench mm --json`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime/media/audio.h"
#include "runtime/media/image.h"
#include "tests/common/gpu_test.h"
#include "tests/common/reference_forward.h"
#include "tests/common/reference_mm.h"
#include "tests/common/tools.h"
#include "tools/factory/factory.h"

namespace tessera::test {
namespace {

void put_u16(std::string& s, std::uint32_t v) { s.append({char(v & 255), char(v >> 8 & 255)}); }
void put_u32(std::string& s, std::uint32_t v) {
  put_u16(s, v & 0xFFFF);
  put_u16(s, v >> 16);
}

// A 24-bit BMP of w x h whose pixels are a smooth pattern (claim_w / claim_h: header-only lies).
void write_bmp(const std::filesystem::path& p, std::uint32_t w, std::uint32_t h, std::uint32_t claim_w = 0,
               std::uint32_t claim_h = 0) {
  const std::uint32_t row = (w * 3 + 3) & ~3u;
  std::string s = "BM";
  put_u32(s, 54 + row * h);
  put_u32(s, 0);
  put_u32(s, 54);
  put_u32(s, 40);
  put_u32(s, claim_w ? claim_w : w);
  put_u32(s, claim_h ? claim_h : h);
  put_u16(s, 1);
  put_u16(s, 24);
  for (int i = 0; i < 6; ++i) put_u32(s, i == 1 ? row * h : 0);
  for (std::uint32_t y = 0; y < h; ++y) {
    for (std::uint32_t x = 0; x < w; ++x)
      s.append({char(x * 255 / w), char(y * 255 / h), char((x + y) * 7 & 255)});
    s.append(row - w * 3, '\0');
  }
  std::ofstream(p, std::ios::binary) << s;
}

// 16-bit PCM WAV, mono, `frames` samples of a sine at `rate`.
void write_wav(const std::filesystem::path& p, std::uint32_t rate, std::uint32_t frames) {
  std::string s = "RIFF";
  put_u32(s, 36 + 2 * frames);
  s += "WAVEfmt ";
  put_u32(s, 16);
  put_u16(s, 1);
  put_u16(s, 1);
  put_u32(s, rate);
  put_u32(s, rate * 2);
  put_u16(s, 2);
  put_u16(s, 16);
  s += "data";
  put_u32(s, 2 * frames);
  for (std::uint32_t i = 0; i < frames; ++i) put_u16(s, static_cast<std::uint16_t>(std::lround(9000 * std::sin(0.07 * i))));
  std::ofstream(p, std::ios::binary) << s;
}

class MmCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    factory::FactoryOptions fo;
    fo.type = factory::parse_type_choice("F32");
    fo.seed = 9;
    factory::write_files(fo, factory::Kind::all, *dir_ / "tiny.gguf");
    fo.preset = factory::preset_by_name("small");
    factory::write_mmproj(fo, *dir_ / "small-mmproj.gguf");
    write_bmp(*dir_ / "a.bmp", 150, 100);
    write_wav(*dir_ / "a.wav", 22050, 22050 / 2);  // 0.5 s -> 13 tokens
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!device_required() && !no_vulkan_reason().empty()) GTEST_SKIP() << no_vulkan_reason();
  }
  static std::string model() { return (*dir_ / "tiny.gguf").string(); }
  static std::string mmproj() { return (*dir_ / "tiny-mmproj.gguf").string(); }
  static std::string file(const char* name) { return (*dir_ / name).string(); }
  static std::string run(const std::string& args) { return "run -q -m " + model() + " --mmproj " + mmproj() + " " + args; }
  static TempDir* dir_;
};
TempDir* MmCliTest::dir_ = nullptr;

// The whole path: file decoding, resizing, projection, prompt layout, injection and the image block.
TEST_F(MmCliTest, ImageAndAudioLogitsMatchTheOracles) {
  const bool audio = media::audio_decoding_available();
  const std::string out = file("mm.f32");
  const ToolResult r = run_tool("tessera", run("--image " + file("a.bmp") + (audio ? " --audio " + file("a.wav") : "") +
                                               " --image-tokens 70 -p 'What is this?' -n 0 --all --dump-logits " + out));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("image " + file("a.bmp") + ": 150x100 -> "), std::string::npos) << r.err;
  const nlohmann::json meta = nlohmann::json::parse(read_all(out + ".json"));
  const std::vector<std::uint32_t> ids = meta["ids"];
  const std::uint32_t vocab = meta["shape"][1];
  const std::string bytes = read_all(out);
  ASSERT_EQ(bytes.size(), 4ull * vocab * ids.size());
  std::vector<float> got(ids.size() * vocab);
  std::memcpy(got.data(), bytes.data(), bytes.size());

  // The oracle's rows from the same decoded pixels / samples.
  const ref::ReferenceModel oracle = ref::ReferenceModel::load(model());
  const ref::ReferenceMmProj mm = ref::ReferenceMmProj::load(mmproj());
  const media::Image img = media::prepare_image(media::load_image(file("a.bmp")), 70);
  const std::vector<float> img_rows = mm.project_image(img.rgb, img.height, img.width);
  const std::uint32_t img_tokens = img.width / 48 * (img.height / 48);
  // The runs of soft tokens: the first run of img_tokens equal ids is the image, a later run of
  // 13 the audio (0.5 s at 25 tokens/s).
  std::vector<ref::Block> blocks;
  std::vector<ref::EmbedRows> embeds;
  std::size_t i = 0;
  bool seen_image = false;
  while (i < ids.size()) {
    std::size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    if (!seen_image && j - i == img_tokens) {
      blocks.push_back({i, j});
      embeds.push_back({i, img_rows});
      seen_image = true;
    } else if (audio && seen_image && j - i == 13) {
      const media::PreparedAudio pa = media::prepare_audio(media::load_audio(file("a.wav")));
      embeds.push_back({i, mm.project_audio(pa.samples)});
    }
    i = j;
  }
  ASSERT_TRUE(seen_image) << "no run of " << img_tokens << " image tokens in the prompt";
  ASSERT_EQ(embeds.size(), audio ? 2u : 1u);
  const std::vector<float> want = oracle.forward(ids, blocks, embeds);
  double max_abs = 0;
  for (std::size_t k = 0; k < want.size(); ++k)
    if (!std::isinf(want[k])) max_abs = std::max(max_abs, double(std::fabs(got[k] - want[k])));
  std::printf("[tessera run --image%s] %zu tokens, max |gpu - ref| = %.3g\n", audio ? " --audio" : "", ids.size(), max_abs);
  EXPECT_LT(max_abs, 2e-2);
}

TEST_F(MmCliTest, PlaceholdersAndCounts) {
  ToolResult r = run_tool("tessera", run("--image " + file("a.bmp") + " --image " + file("a.bmp") +
                                         " -p 'first <|image|> then <|image|>' -n 2 --temp 0"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n') >= 2, true);
  r = run_tool("tessera", run("--image " + file("a.bmp") + " -p 'a <|image|> b <|image|>' -n 2"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("1 image given but the prompt has 2 <|image|> placeholders"), std::string::npos) << r.err;
  r = run_tool("tessera", "run -q -m " + model() + " --image " + file("a.bmp") + " -p hi -n 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--mmproj"), std::string::npos) << r.err;
}

TEST_F(MmCliTest, BadInputsAreClearErrors) {
  std::ofstream(file("corrupt.png"), std::ios::binary) << "\x89PNG\r\n\x1a\nnot really";
  write_bmp(*dir_ / "huge.bmp", 4, 4, 12000, 9000);  // claims 108 Mpx
  std::ofstream(file("empty.wav"), std::ios::binary) << "";
  write_wav(*dir_ / "silent.wav", 16000, 0);
  struct Case {
    std::string args, needle;
  };
  std::vector<Case> cases = {
      {"--image " + file("corrupt.png"), "corrupt.png"},
      {"--image " + file("missing.jpg"), "missing.jpg"},
      {"--image " + file("huge.bmp"), "huge.bmp"},
      {"--video " + file("a.bmp"), "a.bmp"},  // not a folder
  };
  if (media::audio_decoding_available()) {
    cases.push_back({"--audio " + file("empty.wav"), "empty.wav"});
    cases.push_back({"--audio " + file("silent.wav"), "silent.wav"});
  }
  for (const Case& c : cases) {
    const ToolResult r = run_tool("tessera", run(c.args + " -p hi -n 2"));
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.args << ": " << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  }
  // An mmproj of another model width.
  const ToolResult r = run_tool("tessera", "run -q -m " + model() + " --mmproj " + file("small-mmproj.gguf") +
                                               " --image " + file("a.bmp") + " -p hi -n 2");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("wide"), std::string::npos) << r.err;
}

// A bad image in a chat is reported and the chat goes on; the next image works.
TEST_F(MmCliTest, ChatAttachesMediaAndSurvivesABadFile) {
  std::ofstream(file("bad.bmp"), std::ios::binary) << "BMnot a bitmap";
  const auto input = dir_->path() / "chat.txt";
  std::ofstream(input) << "/image " << file("bad.bmp") << "\nlook\n/image " << file("a.bmp") << "\nand now\n/exit\n";
  const ToolResult r = run_tool("tessera", "chat -q -m " + model() + " --mmproj " + mmproj() +
                                               " --image-tokens 70 -n 3 --temp 0 < " + input.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("error: [image] " + file("bad.bmp")), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("image " + file("a.bmp") + ": 150x100"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("context "), std::string::npos) << r.err;
}

// A folder of frames: sampled frames each become "mm:ss <|image> N x <|video|> <image|>".
TEST_F(MmCliTest, VideoFolder) {
  const auto frames = dir_->path() / "frames";
  std::filesystem::create_directories(frames);
  for (int i = 1; i <= 12; ++i) write_bmp(frames / ("f" + std::to_string(i) + ".bmp"), 96, 64);
  const ToolResult r = run_tool("tessera", run("--video " + frames.string() +
                                               " --video-source-fps 4 --video-fps 1 -p 'what happens?' -n 2 --temp 0"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("video " + frames.string() + ": 3 frames"), std::string::npos) << r.err;
}

TEST_F(MmCliTest, BenchMmJson) {
  const ToolResult r = run_tool("tessera", "bench mm -q -m " + model() + " --mmproj " + mmproj() +
                                               " --image-tokens 70 --audio-seconds 1 -r 1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["cases"].size(), media::audio_decoding_available() ? 2u : 1u);
  for (const auto& c : doc["cases"]) {
    EXPECT_GT(c["tokens"].get<int>(), 0);
    EXPECT_GT(c["prefill_tps"].get<double>(), 0.0);
  }
  // The projector alone, at the mmproj's own width: no prefill figures.
  const ToolResult p = run_tool("tessera", "bench mm -q --mmproj " + mmproj() +
                                               " --projection-only --image-tokens 70 --audio-seconds 0 -r 1 --json");
  ASSERT_EQ(p.code, 0) << p.err;
  const nlohmann::json only = nlohmann::json::parse(p.out);
  ASSERT_EQ(only["cases"].size(), 1u);
  EXPECT_EQ(only["cases"][0]["prefill_tokens"], 0);
  EXPECT_GT(only["cases"][0]["project_ms"].get<double>(), 0.0);
}

}  // namespace
}  // namespace tessera::test
