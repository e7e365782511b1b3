// The GPU MTP drafter (runtime/model/mtp_drafter.h) against the independent CPU oracle
// (tests/common/reference_drafter.h) on factory target/drafter pairs: the target's post-norm
// hidden rows (keep_hidden), one drafting step's logits and h_next, and chains of steps at one
// position (each step's argmax feeding the next on the GPU), past the sliding window so the
// sliding layers' key range matters; bad drafter files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/model/gemma4_model.h"
#include "runtime/model/mtp_drafter.h"
#include "tests/common/gpu_test.h"
#include "tests/common/reference_drafter.h"
#include "tests/common/reference_forward.h"
#include "tests/factory/temp_dir.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

double rel_error(std::span<const float> a, std::span<const float> b) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    err = std::max(err, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return scale > 0 ? err / scale : err;
}

std::vector<std::uint32_t> prompt(std::size_t n, std::uint32_t vocab, std::uint32_t seed) {
  std::vector<std::uint32_t> ids(n);
  std::uint64_t s = seed * 2654435761u + 1;
  for (auto& id : ids) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<std::uint32_t>((s >> 33) % (vocab - 16));
  }
  ids[0] = 2;
  return ids;
}

class MtpDrafterTest : public GpuTest {};

void check_against_oracle(Context& c, const char* type, std::uint32_t n_prompt, double tol) {
  test::TempDir dir;
  factory::FactoryOptions fo;
  fo.type = factory::parse_type_choice(type);
  fo.seed = 21;
  factory::write_files(fo, factory::Kind::all, dir.path() / "t.gguf");
  const auto target_path = dir.path() / "t.gguf", drafter_path = dir.path() / "t-drafter.gguf";
  const ref::ReferenceModel oracle = ref::ReferenceModel::load(target_path);
  const ref::ReferenceDrafter d_oracle = ref::ReferenceDrafter::load(drafter_path);
  ModelLoadOptions lo;
  lo.n_ctx = 128;
  lo.n_ubatch = 32;
  const auto model = Gemma4Model::load(c, target_path, lo);
  const auto drafter = MtpDrafter::load(c, drafter_path, *model);
  SessionOptions so(128, 32);
  so.keep_hidden = true;
  Gemma4Session session(*model, so);
  MtpDraftSession ds(*drafter, session);
  const std::uint32_t vocab = model->hparams().n_vocab, d = model->hparams().n_embd;

  const std::vector<std::uint32_t> ids = prompt(n_prompt, vocab, 5);
  session.decode(ids);
  const std::vector<float> h = session.read_hidden(0, 1);
  const std::vector<float> h_ref_all = oracle.hidden_states(ids);
  const std::span<const float> h_ref(h_ref_all.data() + (ids.size() - 1) * d, d);
  const double eh = rel_error(h, h_ref);
  EXPECT_LE(eh, tol) << "target hidden row";

  // A chain of 4 steps at P = n_prompt, from t = some token.
  const std::uint32_t t = 77 % vocab, P = n_prompt, k = 4;
  std::vector<float> logits, h_next;
  const std::vector<std::uint32_t> drafts = ds.draft(t, 0, k, &logits, &h_next);
  const auto kv = oracle.kv(ids);
  std::uint32_t tok = t;
  std::vector<float> hh(h.begin(), h.end());  // the GPU's h: the chain is compared step by step
  double worst = 0;
  for (std::uint32_t s = 0; s < k; ++s) {
    const ref::ReferenceDrafter::Step st = d_oracle.step(oracle, kv, tok, hh, P);
    const std::span<const float> got(logits.data() + std::size_t{s} * vocab, vocab);
    const double e = rel_error(got, st.logits);
    worst = std::max(worst, e);
    EXPECT_LE(e, tol) << "step " << s;
    // Same argmax unless the oracle's top two are within the tolerance.
    std::vector<float> sorted = st.logits;
    std::nth_element(sorted.begin(), sorted.begin() + 1, sorted.end(), std::greater<float>());
    if (sorted[0] - sorted[1] > 1e-2 * std::fabs(sorted[0])) {
      EXPECT_EQ(drafts[s], st.token) << "step " << s;
    }
    tok = drafts[s];
    hh = st.h_next;
    if (s + 1 == k) {
      EXPECT_LE(rel_error(h_next, st.h_next), tol) << "h_next";
    }
  }
  std::printf("[drafter %s, P=%u] hidden %.3g, step logits max rel err %.3g, drafts", type, P, eh, worst);
  for (std::uint32_t x : drafts) std::printf(" %u", x);
  std::printf("\n");
}

TEST_F(MtpDrafterTest, MatchesTheCpuReferenceInsideTheWindow) { check_against_oracle(ctx(), "F32", 9, 2e-3); }

// P = 40 > the tiny preset's window of 16: the sliding layers see the last 15 keys only.
TEST_F(MtpDrafterTest, MatchesTheCpuReferencePastTheWindow) { check_against_oracle(ctx(), "F16", 40, 5e-3); }

TEST_F(MtpDrafterTest, BadFilesAreClearErrors) {
  test::TempDir dir;
  factory::FactoryOptions fo;
  factory::write_files(fo, factory::Kind::all, dir.path() / "t.gguf");
  fo.preset = factory::preset_by_name("small");
  factory::write_drafter(fo, dir.path() / "small-drafter.gguf");
  ModelLoadOptions lo;
  lo.n_ctx = 64;
  const auto model = Gemma4Model::load(ctx(), dir.path() / "t.gguf", lo);
  const auto expect_error = [&](const std::filesystem::path& p, const char* needle) {
    try {
      MtpDrafter::load(ctx(), p, *model);
      ADD_FAILURE() << "no error for " << p;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(dir.path() / "t.gguf", "not an MTP drafter");
  expect_error(dir.path() / "t-mmproj.gguf", "not an MTP drafter");
  expect_error(dir.path() / "small-drafter.gguf", "wide");
  // Drafting before the prompt is in the cache; too many drafts.
  SessionOptions so(64, 16);
  so.keep_hidden = true;
  Gemma4Session session(*model, so);
  const auto drafter = MtpDrafter::load(ctx(), dir.path() / "t-drafter.gguf", *model);
  MtpDraftSession ds(*drafter, session);
  EXPECT_THROW(ds.draft(5, 0, 2), Error);
  const std::uint32_t ids[] = {2, 9, 10};
  session.decode(ids);
  EXPECT_THROW(ds.draft(5, 0, MtpDraftSession::kMaxDraft + 1), Error);
  EXPECT_EQ(ds.draft(5, 0, 3).size(), 3u);
  // Without keep_hidden there are no hidden rows to draft from.
  Gemma4Session plain(*model, {64, 16});
  EXPECT_THROW(plain.hidden_rows(0, 1), Error);
}

}  // namespace
}  // namespace tessera
