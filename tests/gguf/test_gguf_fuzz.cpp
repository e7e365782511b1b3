// Fuzz-style robustness: hundreds of corrupted variants of a valid GGUF (truncations, byte flips,
// length/count fields set to huge values) must each either load or throw tessera::Error: no other
// exception, no crash, no out-of-bounds read (this also runs under ASan + UBSan).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "engine/error.h"
#include "gguf/gguf_builder.h"
#include "runtime/gguf/gguf.h"
#include "runtime/model/hparams.h"
#include "runtime/model/memory_plan.h"
#include "runtime/quant/dequant.h"

namespace tessera {
namespace {

using test::GgufBuilder;

// A small but varied file: every scalar type, arrays, a gemma4 header and quantized tensors.
GgufBuilder seed_file() {
  GgufBuilder b;
  b.kv_str("general.architecture", "gemma4")
      .kv_u32("general.alignment", 32)
      .kv_u32("gemma4.block_count", 2)
      .kv_u32("gemma4.context_length", 4096)
      .kv_u32("gemma4.embedding_length", 32)
      .kv_u32("gemma4.feed_forward_length", 64)
      .kv_u32("gemma4.attention.head_count", 2)
      .kv_array<std::int32_t>("gemma4.attention.head_count_kv", test::kI32, {2, 1})
      .kv_u32("gemma4.attention.key_length", 32)
      .kv_u32("gemma4.attention.key_length_swa", 16)
      .kv_u32("gemma4.attention.sliding_window", 8)
      .kv_bool_array("gemma4.attention.sliding_window_pattern", {true, false})
      .kv_f32("gemma4.rope.freq_base", 1e6f)
      .kv_f32("gemma4.rope.freq_base_swa", 1e4f)
      .kv_f32("gemma4.attention.layer_norm_rms_epsilon", 1e-6f)
      .kv_scalar("x.i8", test::kI8, std::int8_t{-3})
      .kv_scalar("x.u16", test::kU16, std::uint16_t{7})
      .kv_scalar("x.i64", test::kI64, std::int64_t{-9})
      .kv_scalar("x.f64", test::kF64, 2.5)
      .kv_str_array("tokenizer.ggml.tokens", {"<pad>", "<eos>", "a", "b"})
      .kv_array<float>("tokenizer.ggml.scores", test::kF32, {0.f, -1.f, 2.f, 3.f});
  std::string q4k(144, '\x11'), q6k(210, '\x22'), q8(34 * 4, '\x05'), f16(64, '\x3c');
  b.tensor("token_embd.weight", 8, {32, 4}, q8)
      .tensor("blk.0.ffn_up.weight", 12, {256}, q4k)
      .tensor("blk.0.ffn_down.weight", 14, {256}, q6k)
      .tensor("output_norm.weight", 1, {32}, f16);
  return b;
}

// What callers do with a loaded file: read every tensor, format every value, plan memory.
void use(const gguf::File& f) {
  for (const gguf::TensorInfo& t : f.tensors()) {
    const auto data = f.data(t);
    if (t.n_elements <= (1u << 16)) dequantize(t.type, data, static_cast<std::int64_t>(t.n_elements));
  }
  for (const auto& [key, v] : f.metadata()) (void)gguf::format_value(v);
  try {
    const Gemma4HParams hp = read_gemma4_hparams(f);
    MemoryPlanOptions o;
    o.ctx_len = 64;
    (void)plan_memory(f, hp, o);
  } catch (const Error&) {
  }
}

// Parses one variant from an exactly sized heap buffer (so ASan sees any over-read) and, for
// every 4th variant, from a file too. Returns true when it loaded; anything but tessera::Error
// fails the test.
bool try_open(const test::TempFile& tmp, const std::string& bytes, const std::string& label, int index) {
  auto attempt = [&](auto&& open) {
    try {
      use(open());
      return true;
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << label << ": non-tessera exception: " << e.what();
    } catch (...) {
      ADD_FAILURE() << label << ": unknown exception";
    }
    return false;
  };
  const bool loaded = attempt([&] {
    const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
    return gguf::File::from_bytes(std::vector<std::byte>(p, p + bytes.size()), label);
  });
  if (index % 4 == 0) {
    const bool loaded_file = attempt([&] { return gguf::File::open(tmp.write(bytes)); });
    EXPECT_EQ(loaded, loaded_file) << label;
  }
  return loaded;
}

TEST(GgufFuzz, CorruptedVariantsLoadOrThrowError) {
  GgufBuilder b = seed_file();
  const std::string good = b.build();
  const std::vector<std::size_t> fields = b.len_fields;
  test::TempFile tmp("fuzz");
  ASSERT_TRUE(try_open(tmp, good, "seed", 0));
  {  // the seed must be a valid gemma4 file, so the hparams path is exercised too
    const gguf::File f = gguf::File::open(tmp.path());
    EXPECT_EQ(read_gemma4_hparams(f).n_layer, 2u);
  }

  std::mt19937_64 rng(1234);
  int n = 0, loaded = 0;
  // 1. Truncations at ~200 evenly spaced lengths (plus every length of the first 64 bytes).
  const std::size_t step = std::max<std::size_t>(1, good.size() / 200);
  for (std::size_t len = 0; len < good.size(); len += (len < 64 ? 1 : step), ++n)
    loaded += try_open(tmp, good.substr(0, len), "truncate " + std::to_string(len), n);
  // 2. Random byte flips (1-8 per variant).
  for (int i = 0; i < 250; ++i, ++n) {
    std::string s = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) s[rng() % s.size()] ^= static_cast<char>(1 + rng() % 255);
    loaded += try_open(tmp, s, "flip #" + std::to_string(i), n);
  }
  // 3. Length and count fields (string lengths, array counts, dims, offsets) set to huge or
  //    off-by-a-little values.
  const std::uint64_t specials[] = {~0ull, 1ull << 63, (1ull << 63) - 1, 1ull << 32, 0xffffffffull,
                                    good.size(), good.size() + 1, 0};
  for (int i = 0; i < 250; ++i, ++n) {
    std::string s = good;
    const std::size_t at = fields[rng() % fields.size()];
    std::uint64_t v;
    std::memcpy(&v, s.data() + at, 8);
    switch (rng() % 3) {
      case 0: v = specials[rng() % std::size(specials)]; break;
      case 1: v = rng(); break;
      default: v += (rng() % 5) - 2; break;
    }
    std::memcpy(s.data() + at, &v, 8);
    loaded += try_open(tmp, s, "field@" + std::to_string(at) + "=" + std::to_string(v), n);
  }
  EXPECT_GE(n, 600);
  EXPECT_GT(loaded, 0);  // some flips land in tensor data and still load
  EXPECT_LT(loaded, n);
}

}  // namespace
}  // namespace tessera
