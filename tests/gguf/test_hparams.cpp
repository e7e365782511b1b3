// Hyper-parameters from hand-built metadata: the 12B header (with a sparse Q6_K token_embd),
// the drafter's naming variants, an mmproj, and errors naming the file and the key.
#include <gtest/gtest.h>

#include <string>

#include "engine/error.h"
#include "gguf/gemma4_fixture.h"
#include "gguf/gguf_builder.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/hparams.h"

namespace tessera {
namespace {

using test::GgufBuilder;
using test::TempFile;

constexpr std::uint64_t kEmbdQ6KBytes = 3840ull * 262144 / 256 * 210;  // 825,753,600

// 12B metadata plus token_embd Q6_K [3840, 262144] as a sparse run of zeros.
GgufBuilder model_12b() {
  GgufBuilder b;
  test::add_gemma4_12b_metadata(b);
  b.tensor_sized("token_embd.weight", 14, {3840, 262144}, kEmbdQ6KBytes);
  return b;
}

Gemma4HParams read(GgufBuilder& b, const TempFile& tmp) {
  const std::string bytes = b.build();
  const gguf::File f = gguf::File::open(tmp.write(bytes, b.file_size));
  return read_gemma4_hparams(f);
}

std::string read_error(GgufBuilder b) {
  TempFile tmp("hp_err");
  try {
    read(b, tmp);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(tmp.path().string()), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "hparams read without error";
  return {};
}

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

TEST(HParams, Gemma4_12B) {
  GgufBuilder b = model_12b();
  TempFile tmp("hp12b");
  const Gemma4HParams h = read(b, tmp);
  EXPECT_EQ(h.arch, "gemma4");
  EXPECT_FALSE(h.is_assistant);
  EXPECT_EQ(h.n_layer, 48u);
  EXPECT_EQ(h.n_ctx_train, 262144u);
  EXPECT_EQ(h.n_embd, 3840u);
  EXPECT_EQ(h.n_head, 16u);
  EXPECT_EQ(h.n_vocab, 262144u);
  EXPECT_EQ(h.n_sliding_layers(), 40u);
  EXPECT_EQ(h.n_global_layers(), 8u);
  EXPECT_EQ(h.n_kv_layers(), 48u);
  EXPECT_EQ(h.sliding_window, 1024u);
  EXPECT_FLOAT_EQ(h.rms_eps, 1e-6f);
  EXPECT_EQ(h.final_logit_softcap, 30.0f);
  EXPECT_EQ(h.n_embd_per_layer, 0u);

  const LayerHParams s = h.layer(0);
  EXPECT_TRUE(s.is_sliding);
  EXPECT_EQ(s.n_kv_heads, 8u);
  EXPECT_EQ(s.head_dim, 256u);
  EXPECT_EQ(s.value_dim, 256u);
  EXPECT_EQ(s.n_ff, 15360u);
  EXPECT_EQ(s.rope_base, 1e4f);
  EXPECT_EQ(s.rope_dims, 256u);
  EXPECT_TRUE(s.has_kv);
  for (std::uint32_t il : {5u, 11u, 17u, 23u, 29u, 35u, 41u, 47u}) {
    const LayerHParams g = h.layer(il);
    EXPECT_FALSE(g.is_sliding) << il;
    EXPECT_EQ(g.n_kv_heads, 1u);
    EXPECT_EQ(g.head_dim, 512u);
    EXPECT_EQ(g.rope_base, 1e6f);
    EXPECT_EQ(g.rope_dims, 512u);
  }
  EXPECT_TRUE(h.layer(46).is_sliding);
  EXPECT_THROW(h.layer(48), Error);
}

TEST(HParams, ScalarHeadCountKvAndIntegerPattern) {
  GgufBuilder b;
  b.kv_str("general.architecture", "gemma4")
      .kv_u32("gemma4.block_count", 4)
      .kv_u32("gemma4.context_length", 128)
      .kv_u32("gemma4.embedding_length", 64)
      .kv_array<std::int32_t>("gemma4.feed_forward_length", test::kI32, {128, 128, 256, 256})
      .kv_u32("gemma4.attention.head_count", 4)
      .kv_u32("gemma4.attention.head_count_kv", 2)
      .kv_u32("gemma4.attention.key_length", 32)
      .kv_u32("gemma4.attention.key_length_swa", 16)
      .kv_u32("gemma4.attention.sliding_window", 8)
      .kv_u32("gemma4.attention.sliding_window_pattern", 2)  // every 2nd layer global
      .kv_f32("gemma4.rope.freq_base", 1e6f)
      .kv_f32("gemma4.rope.freq_base_swa", 1e4f)
      .kv_f32("gemma4.attention.layer_norm_rms_epsilon", 1e-6f)
      .kv_str_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  TempFile tmp("hp_small");
  const Gemma4HParams h = read(b, tmp);
  EXPECT_EQ(h.n_head_kv, (std::vector<std::uint32_t>{2, 2, 2, 2}));
  EXPECT_EQ(h.is_sliding, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(h.n_ff, (std::vector<std::uint32_t>{128, 128, 256, 256}));
  EXPECT_EQ(h.value_dim, 32u);      // defaults to key_length
  EXPECT_EQ(h.value_dim_swa, 16u);  // defaults to key_length_swa
  EXPECT_EQ(h.rope_dims_swa, 16u);
  EXPECT_EQ(h.final_logit_softcap, 0.0f);
  EXPECT_EQ(h.n_vocab, 3u);  // from the tokenizer when token_embd is absent
}

TEST(HParams, ErrorsNameFileAndKey) {
  EXPECT_HAS(read_error(model_12b().remove("gemma4.block_count")), "[hparams] ");
  EXPECT_HAS(read_error(model_12b().remove("gemma4.block_count")), "key 'gemma4.block_count' is missing");
  EXPECT_HAS(read_error(model_12b().remove("gemma4.attention.key_length_swa")),
             "key 'gemma4.attention.key_length_swa' is missing");
  EXPECT_HAS(read_error(model_12b().remove("gemma4.rope.freq_base_swa")), "key 'gemma4.rope.freq_base_swa' is missing");
  EXPECT_HAS(read_error(model_12b().remove("gemma4.attention.sliding_window")),
             "key 'gemma4.attention.sliding_window' is missing");
  EXPECT_HAS(read_error(model_12b().remove("gemma4.attention.layer_norm_rms_epsilon")),
             "key 'gemma4.attention.layer_norm_rms_epsilon' is missing");

  GgufBuilder kv47 = model_12b();
  kv47.remove("gemma4.attention.head_count_kv").kv_array("gemma4.attention.head_count_kv", test::kI32, std::vector<std::int32_t>(47, 8));
  EXPECT_HAS(read_error(kv47), "key 'gemma4.attention.head_count_kv' has 47 entries but block_count is 48");

  GgufBuilder kv3 = model_12b();
  kv3.remove("gemma4.attention.head_count_kv").kv_u32("gemma4.attention.head_count_kv", 3);
  EXPECT_HAS(read_error(kv3), "'gemma4.attention.head_count_kv' is 3 at layer 0: must be non-zero and divide head_count 16");

  GgufBuilder pat = model_12b();
  pat.remove("gemma4.attention.sliding_window_pattern").kv_bool_array("gemma4.attention.sliding_window_pattern", {true});
  EXPECT_HAS(read_error(pat), "key 'gemma4.attention.sliding_window_pattern' has 1 entries but block_count is 48");

  GgufBuilder typ = model_12b();
  typ.remove("gemma4.block_count").kv_str("gemma4.block_count", "48");
  EXPECT_HAS(read_error(typ), "key 'gemma4.block_count' is string, expected an integer");

  GgufBuilder rope = model_12b();
  rope.remove("gemma4.rope.dimension_count").kv_u32("gemma4.rope.dimension_count", 1024);
  EXPECT_HAS(read_error(rope), "key 'gemma4.rope.dimension_count' is 1024: must be even and <= key_length 512");

  GgufBuilder vocab = model_12b();
  vocab.kv_str_array("tokenizer.ggml.tokens", {"a", "b"});
  EXPECT_HAS(read_error(vocab), "token_embd.weight has 262144 rows but tokenizer.ggml.tokens has 2 tokens");

  GgufBuilder embd;
  test::add_gemma4_12b_metadata(embd);
  embd.tensor("token_embd.weight", 0, {100, 2}, std::string(800, '\0'));
  EXPECT_HAS(read_error(embd), "tensor 'token_embd.weight' is [100, 2], expected [3840, n_vocab]");

  GgufBuilder novocab;
  test::add_gemma4_12b_metadata(novocab);
  EXPECT_HAS(read_error(novocab), "cannot determine the vocabulary size");

  GgufBuilder arch = model_12b();
  arch.remove("general.architecture").kv_str("general.architecture", "llama");
  EXPECT_HAS(read_error(arch), "architecture 'llama' is not gemma4");
}

// The 12B drafter (spec §8.3): 4 layers of width 1024 reading the target's KV.
GgufBuilder drafter(const std::string& arch) {
  const std::string p = arch + ".";
  GgufBuilder b;
  b.kv_str("general.architecture", arch)
      .kv_u32(p + "block_count", 4)
      .kv_u32(p + "context_length", 262144)
      .kv_u32(p + "embedding_length", 1024)
      .kv_u32(p + "feed_forward_length", 8192)
      .kv_u32(p + "attention.head_count", 16)
      .kv_array<std::int32_t>(p + "attention.head_count_kv", test::kI32, {8, 8, 8, 1})
      .kv_u32(p + "attention.key_length", 512)
      .kv_u32(p + "attention.value_length", 512)
      .kv_u32(p + "attention.key_length_swa", 256)
      .kv_u32(p + "attention.value_length_swa", 256)
      .kv_u32(p + "attention.sliding_window", 1024)
      .kv_bool_array(p + "attention.sliding_window_pattern", {true, true, true, false})
      .kv_u32(p + "attention.shared_kv_layers", 4)
      .kv_f32(p + "rope.freq_base", 1e6f)
      .kv_f32(p + "rope.freq_base_swa", 1e4f)
      .kv_f32(p + "attention.layer_norm_rms_epsilon", 1e-6f);
  return b;
}

TEST(HParams, AssistantVariants) {
  {
    GgufBuilder b = drafter("gemma4-assistant");
    b.kv_u32("gemma4-assistant.embedding_length_out", 3840).kv_u32("gemma4-assistant.nextn_predict_layers", 4);
    b.tensor_sized("token_embd.weight", 1, {1024, 262144}, 1024ull * 262144 * 2);
    TempFile tmp("asst");
    const Gemma4HParams h = read(b, tmp);
    EXPECT_TRUE(h.is_assistant);
    EXPECT_EQ(h.n_layer, 4u);
    EXPECT_EQ(h.n_embd, 1024u);
    EXPECT_EQ(h.n_embd_backbone, 3840u);
    EXPECT_EQ(h.n_nextn_layers, 4u);
    EXPECT_EQ(h.n_vocab, 262144u);
    EXPECT_EQ(h.n_kv_layers(), 0u);
    EXPECT_FALSE(h.layer(0).has_kv);
    EXPECT_EQ(h.layer(3).head_dim, 512u);
    EXPECT_EQ(h.layer(3).n_kv_heads, 1u);
  }
  {  // underscore spelling with n_embd_backbone
    GgufBuilder b = drafter("gemma4_assistant");
    b.kv_u32("gemma4_assistant.n_embd_backbone", 3840).kv_str_array("tokenizer.ggml.tokens", {"x", "y"});
    TempFile tmp("asst2");
    const Gemma4HParams h = read(b, tmp);
    EXPECT_EQ(h.arch, "gemma4_assistant");
    EXPECT_EQ(h.n_embd_backbone, 3840u);
    EXPECT_EQ(h.n_vocab, 2u);
  }
  {  // no width key: inferred from mtp.pre_projection [7680, 1024] (embedding ‖ hidden)
    GgufBuilder b = drafter("gemma4-assistant");
    b.kv_str_array("tokenizer.ggml.tokens", {"x"});
    b.tensor_sized("mtp.pre_projection.weight", 1, {7680, 1024}, 7680ull * 1024 * 2);
    TempFile tmp("asst3");
    EXPECT_EQ(read(b, tmp).n_embd_backbone, 3840u);
  }
  GgufBuilder same = drafter("gemma4-assistant");
  same.kv_u32("gemma4-assistant.embedding_length_out", 1024).kv_str_array("tokenizer.ggml.tokens", {"x"});
  EXPECT_HAS(read_error(same), "equals embedding_length (1024): not an assistant");
  GgufBuilder none = drafter("gemma4-assistant");
  none.kv_str_array("tokenizer.ggml.tokens", {"x"});
  EXPECT_HAS(read_error(none), "key 'gemma4-assistant.embedding_length_out' is missing");
  GgufBuilder nextn = drafter("gemma4-assistant");
  nextn.kv_u32("gemma4-assistant.embedding_length_out", 3840)
      .kv_u32("gemma4-assistant.nextn_predict_layers", 3)
      .kv_str_array("tokenizer.ggml.tokens", {"x"});
  EXPECT_HAS(read_error(nextn), "'gemma4-assistant.nextn_predict_layers' is 3 but block_count is 4");
}

TEST(HParams, ClipMmproj) {
  GgufBuilder b;
  b.kv_str("general.architecture", "clip")
      .kv_bool("clip.has_vision_encoder", true)
      .kv_bool("clip.has_audio_encoder", true)
      .kv_str("clip.vision.projector_type", "gemma4uv")
      .kv_str("clip.audio.projector_type", "gemma4ua")
      .kv_u32("clip.vision.patch_size", 16)
      .kv_u32("clip.vision.embedding_length", 3840)
      .kv_u32("clip.vision.projection_dim", 3840)
      .kv_f32("clip.vision.attention.layer_norm_epsilon", 1e-6f)
      .kv_u32("clip.audio.embedding_length", 640)
      .kv_u32("clip.audio.projection_dim", 3840);
  TempFile tmp("clip");
  const gguf::File f = gguf::File::open(tmp.write(b.build()));
  const ClipHParams c = read_clip_hparams(f);
  EXPECT_TRUE(c.has_vision);
  EXPECT_TRUE(c.has_audio);
  EXPECT_EQ(c.vision_projector, "gemma4uv");
  EXPECT_EQ(c.audio_projector, "gemma4ua");
  EXPECT_EQ(c.patch_size, 16u);
  EXPECT_EQ(c.scale_factor, 3u);  // gemma4uv default
  EXPECT_EQ(c.vision_n_embd, 3840u);
  EXPECT_EQ(c.audio_n_embd, 640u);
  EXPECT_EQ(c.audio_proj_dim, 3840u);
  EXPECT_THROW(read_gemma4_hparams(f), Error);
  EXPECT_FALSE(is_gemma4_arch("clip"));
  EXPECT_TRUE(is_gemma4_arch("gemma4_assistant"));
}

}  // namespace
}  // namespace tessera
