// The factory's 12b files (written sparse with --zeros) against spec §8: tensor counts
// 667 / 11 / 49, names, shapes, types, metadata keys, and the Q4_K_M / BF16 sizes of real files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <memory>

#include "factory/temp_dir.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"
#include "tools/factory/factory.h"

namespace tessera {
namespace {

using Ne = std::vector<std::uint64_t>;
constexpr std::uint64_t kRealQ4KMBytes = 7'366'423'360;  // unsloth gemma-4-12b-it UD-Q4_K_XL
constexpr std::uint64_t kRealBf16MmprojBytes = 175'115'840;

class Factory12b : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    factory::FactoryOptions o;
    o.preset = factory::preset_by_name("12b");
    o.type = factory::parse_type_choice("Q4_K_M");
    o.zeros = true;
    written_ = factory::write_files(o, factory::Kind::all, *dir_ / "g12.gguf");
    model_ = std::make_unique<gguf::File>(gguf::File::open(written_[0].path));
    mmproj_ = std::make_unique<gguf::File>(gguf::File::open(written_[1].path));
    drafter_ = std::make_unique<gguf::File>(gguf::File::open(written_[2].path));
  }
  static void TearDownTestSuite() {
    model_.reset();
    mmproj_.reset();
    drafter_.reset();
    dir_.reset();
  }

  static void expect_tensor(const gguf::File& f, const std::string& name, const Ne& ne, DType type) {
    const gguf::TensorInfo* t = f.find_tensor(name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->ne, ne) << name;
    EXPECT_EQ(t->type, type) << name << " is " << dtype_name(t->type);
  }

  static inline std::unique_ptr<test::TempDir> dir_;
  static inline std::vector<factory::WrittenFile> written_;
  static inline std::unique_ptr<gguf::File> model_, mmproj_, drafter_;
};

TEST_F(Factory12b, WritesThreeFilesNamedAfterTheOutput) {
  ASSERT_EQ(written_.size(), 3u);
  EXPECT_EQ(written_[0].path.filename(), "g12.gguf");
  EXPECT_EQ(written_[1].path.filename(), "g12-mmproj.gguf");
  EXPECT_EQ(written_[2].path.filename(), "g12-drafter.gguf");
  EXPECT_EQ(written_[0].n_tensors, 667u);
  EXPECT_EQ(written_[1].n_tensors, 11u);
  EXPECT_EQ(written_[2].n_tensors, 49u);
  for (const auto& w : written_) EXPECT_EQ(std::filesystem::file_size(w.path), w.bytes);
}

TEST_F(Factory12b, ModelTensorsMatchSpec) {
  const gguf::File& f = *model_;
  ASSERT_EQ(f.tensors().size(), 667u);  // 3 + 40*14 + 8*13
  expect_tensor(f, "token_embd.weight", {3840, 262144}, DType::Q6_K);
  expect_tensor(f, "output_norm.weight", {3840}, DType::F32);
  expect_tensor(f, "rope_freqs.weight", {256}, DType::F32);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  int q6_down = 0, q6_v = 0;
  for (int il = 0; il < 48; ++il) {
    const bool global = il % 6 == 5;
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::uint64_t hd = global ? 512 : 256, q = 16 * hd, kv = (global ? 1 : 8) * hd;
    expect_tensor(f, p + "attn_norm.weight", {3840}, DType::F32);
    expect_tensor(f, p + "attn_q.weight", {3840, q}, DType::Q4_K);
    expect_tensor(f, p + "attn_k.weight", {3840, kv}, DType::Q4_K);
    expect_tensor(f, p + "attn_q_norm.weight", {hd}, DType::F32);
    expect_tensor(f, p + "attn_k_norm.weight", {hd}, DType::F32);
    expect_tensor(f, p + "attn_output.weight", {q, 3840}, DType::Q4_K);
    expect_tensor(f, p + "post_attention_norm.weight", {3840}, DType::F32);
    expect_tensor(f, p + "ffn_norm.weight", {3840}, DType::F32);
    expect_tensor(f, p + "ffn_gate.weight", {3840, 15360}, DType::Q4_K);
    expect_tensor(f, p + "ffn_up.weight", {3840, 15360}, DType::Q4_K);
    expect_tensor(f, p + "post_ffw_norm.weight", {3840}, DType::F32);
    expect_tensor(f, p + "layer_output_scale.weight", {1}, DType::F32);
    const gguf::TensorInfo& down = f.tensor(p + "ffn_down.weight");
    EXPECT_EQ(down.ne, (Ne{15360, 3840}));
    q6_down += down.type == DType::Q6_K;
    const gguf::TensorInfo* v = f.find_tensor(p + "attn_v.weight");
    if (global) {
      EXPECT_EQ(v, nullptr) << p << " is global: V = K";
    } else {
      ASSERT_NE(v, nullptr) << p;
      EXPECT_EQ(v->ne, (Ne{3840, 2048}));
      q6_v += v->type == DType::Q6_K;
      EXPECT_TRUE(v->type == DType::Q6_K || v->type == DType::Q4_K);
    }
  }
  EXPECT_EQ(q6_down, 24);  // about half, like llama.cpp's Q4_K_M
  EXPECT_EQ(q6_v, 20);
  EXPECT_EQ(f.tensor("blk.0.ffn_down.weight").type, DType::Q6_K);   // first eighth
  EXPECT_EQ(f.tensor("blk.6.ffn_down.weight").type, DType::Q4_K);
  EXPECT_EQ(f.tensor("blk.47.ffn_down.weight").type, DType::Q6_K);  // last eighth
}

TEST_F(Factory12b, ModelMetadataMatchesSpec) {
  const gguf::File& f = *model_;
  EXPECT_EQ(f.get_string("general.architecture"), "gemma4");
  EXPECT_EQ(f.get_uint("general.file_type"), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(f.get_uint("gemma4.block_count"), 48u);
  EXPECT_EQ(f.get_uint("gemma4.context_length"), 262144u);
  EXPECT_EQ(f.get_uint("gemma4.embedding_length"), 3840u);
  EXPECT_EQ(f.get_uint("gemma4.feed_forward_length"), 15360u);
  EXPECT_EQ(f.get_uint("gemma4.attention.head_count"), 16u);
  const std::vector<std::int64_t> kv = f.get_int_array("gemma4.attention.head_count_kv");
  const std::vector<bool> swa = f.get_bool_array("gemma4.attention.sliding_window_pattern");
  ASSERT_EQ(kv.size(), 48u);
  ASSERT_EQ(swa.size(), 48u);
  for (int il = 0; il < 48; ++il) {
    EXPECT_EQ(swa[static_cast<std::size_t>(il)], il % 6 != 5) << il;
    EXPECT_EQ(kv[static_cast<std::size_t>(il)], il % 6 == 5 ? 1 : 8) << il;
  }
  EXPECT_EQ(f.get_uint("gemma4.attention.key_length"), 512u);
  EXPECT_EQ(f.get_uint("gemma4.attention.value_length"), 512u);
  EXPECT_EQ(f.get_uint("gemma4.attention.key_length_swa"), 256u);
  EXPECT_EQ(f.get_uint("gemma4.attention.value_length_swa"), 256u);
  EXPECT_FLOAT_EQ(static_cast<float>(f.get_float("gemma4.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(f.get_uint("gemma4.attention.sliding_window"), 1024u);
  EXPECT_EQ(f.get_uint("gemma4.attention.shared_kv_layers"), 0u);
  EXPECT_EQ(f.get_uint("gemma4.embedding_length_per_layer_input"), 0u);
  EXPECT_EQ(f.get_float("gemma4.final_logit_softcapping"), 30.0);
  EXPECT_EQ(f.get_uint("gemma4.rope.dimension_count"), 512u);
  EXPECT_EQ(f.get_uint("gemma4.rope.dimension_count_swa"), 256u);
  EXPECT_EQ(f.get_float("gemma4.rope.freq_base"), 1e6);
  EXPECT_EQ(f.get_float("gemma4.rope.freq_base_swa"), 1e4);
  EXPECT_FALSE(f.has("gemma4.attn_logit_softcapping"));
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gemma4");
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 262144u);
  EXPECT_EQ(f.get_float_array("tokenizer.ggml.scores").size(), 262144u);
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.token_type").size(), 262144u);
  EXPECT_GT(f.get_string_array("tokenizer.ggml.merges").size(), 200000u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.eos_token_id"), 1u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.padding_token_id"), 0u);
  EXPECT_EQ(f.get_uint("tokenizer.ggml.unknown_token_id"), 3u);
  EXPECT_TRUE(f.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(f.get_int_array("tokenizer.ggml.suppress_tokens"), (std::vector<std::int64_t>{258883, 258882}));
  EXPECT_NE(f.get_string("tokenizer.chat_template").find("<|turn>"), std::string::npos);
}

TEST_F(Factory12b, Q4KMSizeIsWithinTwoPercentOfTheRealFile) {
  const double size = static_cast<double>(model_->file_size());
  EXPECT_NEAR(size / static_cast<double>(kRealQ4KMBytes), 1.0, 0.02) << "factory 12b Q4_K_M is " << size << " bytes";
#if defined(__unix__) || defined(__APPLE__)
  struct stat st {};
  ASSERT_EQ(::stat(written_[0].path.c_str(), &st), 0);
  EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, 256ull << 20) << "--zeros must leave the data sparse";
#endif
}

TEST_F(Factory12b, MmprojMatchesSpec) {
  const gguf::File& f = *mmproj_;
  EXPECT_EQ(f.get_string("general.architecture"), "clip");
  EXPECT_TRUE(f.get_bool("clip.has_vision_encoder"));
  EXPECT_TRUE(f.get_bool("clip.has_audio_encoder"));
  EXPECT_EQ(f.get_string("clip.vision.projector_type"), "gemma4uv");
  EXPECT_EQ(f.get_string("clip.audio.projector_type"), "gemma4ua");
  EXPECT_EQ(f.get_uint("clip.vision.patch_size"), 16u);
  EXPECT_EQ(f.get_uint("clip.vision.embedding_length"), 3840u);
  EXPECT_EQ(f.get_uint("clip.vision.projection_dim"), 3840u);
  EXPECT_EQ(f.get_uint("clip.audio.embedding_length"), 640u);
  EXPECT_EQ(f.get_uint("clip.audio.projection_dim"), 3840u);
  EXPECT_EQ(f.get_float_array("clip.vision.image_mean"), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(f.get_float_array("clip.vision.image_std"), (std::vector<double>{1, 1, 1}));
  EXPECT_FALSE(f.has("tokenizer.ggml.tokens"));
  ASSERT_EQ(f.tensors().size(), 11u);
  expect_tensor(f, "v.patch_norm.1.weight", {6912}, DType::F32);
  expect_tensor(f, "v.patch_norm.1.bias", {6912}, DType::F32);
  expect_tensor(f, "v.patch_embd.weight", {6912, 3840}, DType::F16);
  expect_tensor(f, "v.patch_embd.bias", {3840}, DType::F32);
  expect_tensor(f, "v.patch_norm.2.weight", {3840}, DType::F32);
  expect_tensor(f, "v.patch_norm.2.bias", {3840}, DType::F32);
  expect_tensor(f, "v.position_embd.weight", {3840, 1120, 2}, DType::F32);
  expect_tensor(f, "v.patch_norm.3.weight", {3840}, DType::F32);
  expect_tensor(f, "v.patch_norm.3.bias", {3840}, DType::F32);
  expect_tensor(f, "mm.input_projection.weight", {3840, 3840}, DType::F16);
  expect_tensor(f, "mm.a.input_projection.weight", {640, 3840}, DType::F16);
}

TEST_F(Factory12b, Bf16MmprojSizeMatchesTheRealFile) {
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name("12b");
  o.type = factory::parse_type_choice("BF16");
  gguf::Writer w;
  factory::prepare(w, o, factory::Kind::mmproj, factory::Vocab{});
  EXPECT_NEAR(static_cast<double>(w.file_size()) / kRealBf16MmprojBytes, 1.0, 0.001);
  for (const gguf::WriterTensor& t : w.tensors()) {
    if (t.name == "mm.input_projection.weight" || t.name == "mm.a.input_projection.weight")
      EXPECT_EQ(t.type, DType::BF16) << t.name;
    else
      EXPECT_EQ(t.type, DType::F32) << t.name;
  }
}

TEST_F(Factory12b, DrafterMatchesSpec) {
  const gguf::File& f = *drafter_;
  const std::string a = "gemma4-assistant.";
  EXPECT_EQ(f.get_string("general.architecture"), "gemma4-assistant");
  EXPECT_EQ(f.get_uint(a + "block_count"), 4u);
  EXPECT_EQ(f.get_uint(a + "embedding_length"), 1024u);
  EXPECT_EQ(f.get_uint(a + "embedding_length_out"), 3840u);
  EXPECT_EQ(f.get_uint(a + "feed_forward_length"), 8192u);
  EXPECT_EQ(f.get_uint(a + "attention.head_count"), 16u);
  EXPECT_EQ(f.get_int_array(a + "attention.head_count_kv"), (std::vector<std::int64_t>{8, 8, 8, 1}));
  EXPECT_EQ(f.get_bool_array(a + "attention.sliding_window_pattern"), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(f.get_uint(a + "attention.key_length"), 512u);
  EXPECT_EQ(f.get_uint(a + "attention.key_length_swa"), 256u);
  EXPECT_EQ(f.get_uint(a + "attention.shared_kv_layers"), 4u);
  EXPECT_EQ(f.get_uint(a + "nextn_predict_layers"), 4u);
  EXPECT_EQ(f.get_uint(a + "attention.sliding_window"), 1024u);
  EXPECT_EQ(f.get_float(a + "rope.freq_base"), 1e6);
  EXPECT_FALSE(f.has(a + "final_logit_softcapping"));
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 262144u);
  ASSERT_EQ(f.tensors().size(), 49u);
  expect_tensor(f, "token_embd.weight", {1024, 262144}, DType::Q6_K);
  expect_tensor(f, "output_norm.weight", {1024}, DType::F32);
  expect_tensor(f, "rope_freqs.weight", {256}, DType::F32);
  expect_tensor(f, "nextn.pre_projection.weight", {7680, 1024}, DType::Q4_K);
  expect_tensor(f, "nextn.post_projection.weight", {1024, 3840}, DType::Q4_K);
  for (int il = 0; il < 4; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const std::uint64_t hd = il == 3 ? 512 : 256;
    expect_tensor(f, p + "attn_norm.weight", {1024}, DType::F32);
    expect_tensor(f, p + "attn_q.weight", {1024, 16 * hd}, DType::Q4_K);
    expect_tensor(f, p + "attn_q_norm.weight", {hd}, DType::F32);
    expect_tensor(f, p + "attn_output.weight", {16 * hd, 1024}, DType::Q4_K);
    expect_tensor(f, p + "post_attention_norm.weight", {1024}, DType::F32);
    expect_tensor(f, p + "ffn_norm.weight", {1024}, DType::F32);
    expect_tensor(f, p + "ffn_gate.weight", {1024, 8192}, DType::Q4_K);
    expect_tensor(f, p + "ffn_up.weight", {1024, 8192}, DType::Q4_K);
    EXPECT_EQ(f.tensor(p + "ffn_down.weight").ne, (Ne{8192, 1024}));
    expect_tensor(f, p + "post_ffw_norm.weight", {1024}, DType::F32);
    expect_tensor(f, p + "layer_output_scale.weight", {1}, DType::F32);
    EXPECT_EQ(f.find_tensor(p + "attn_k.weight"), nullptr);
    EXPECT_EQ(f.find_tensor(p + "attn_v.weight"), nullptr);
  }
}

TEST_F(Factory12b, PrepareGivesTheSizeWithoutWriting) {
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name("12b");
  o.type = factory::parse_type_choice("Q4_K_M");
  o.zeros = true;  // as the fixture's file: " zeros" is part of general.description
  gguf::Writer w;
  const factory::FilePlan plan = factory::prepare(w, o, factory::Kind::model, factory::synthetic_vocab(262144));
  EXPECT_EQ(plan.tensors.size(), 667u);
  EXPECT_EQ(w.file_size(), model_->file_size());
  // The other single-type sizes follow bits per weight: Q8_0 ~ 12.7 GB, F16 ~ 23.8 GB (spec §9.3).
  o.type = factory::parse_type_choice("Q8_0");
  gguf::Writer w8;
  factory::prepare(w8, o, factory::Kind::model, factory::synthetic_vocab(262144));
  EXPECT_NEAR(static_cast<double>(w8.file_size()) / 12.67e9, 1.0, 0.01);
}

}  // namespace
}  // namespace tessera
