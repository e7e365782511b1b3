// Factory weights of the tiny and small presets: determinism from the seed, sensible value
// ranges, the K-quant block-size fallback, and a CPU reference forward pass (spec §2) that must
// give finite, non-degenerate logits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <algorithm>
#include <map>
#include <set>

#include "factory/temp_dir.h"
#include "runtime/gguf/gguf.h"
#include "runtime/quant/dequant.h"
#include "tools/factory/factory.h"
#include "tools/factory/weights.h"

namespace tessera {
namespace {

factory::FactoryOptions options(const char* preset, const char* type, std::uint64_t seed) {
  factory::FactoryOptions o;
  o.preset = factory::preset_by_name(preset);
  o.type = factory::parse_type_choice(type);
  o.seed = seed;
  o.threads = 2;
  return o;
}

std::vector<float> values(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  return dequantize(t.type, f.data(t), static_cast<std::int64_t>(t.n_elements));
}

std::string tensor_bytes(const gguf::File& f) {
  std::string out;
  for (const gguf::TensorInfo& t : f.tensors()) {
    const auto d = f.data(t);
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  return out;
}

TEST(FactoryWeights, DeterministicFromTheSeed) {
  test::TempDir dir;
  auto o = options("tiny", "Q4_K_M", 7);
  factory::write_files(o, factory::Kind::all, dir / "a.gguf");
  o.threads = 1;  // the thread count must not matter
  factory::write_files(o, factory::Kind::all, dir / "b.gguf");
  for (const char* suffix : {".gguf", "-mmproj.gguf", "-drafter.gguf"})
    EXPECT_EQ(test::read_all(dir / (std::string("a") + suffix)), test::read_all(dir / (std::string("b") + suffix)))
        << suffix;
  o.seed = 8;
  factory::write_model(o, dir / "c.gguf");
  EXPECT_NE(tensor_bytes(gguf::File::open(dir / "a.gguf")), tensor_bytes(gguf::File::open(dir / "c.gguf")));
}

TEST(FactoryWeights, GenerateRowsMatchesTheFile) {
  test::TempDir dir;
  const auto o = options("tiny", "F32", 3);
  factory::write_model(o, dir / "m.gguf");
  const gguf::File f = gguf::File::open(dir / "m.gguf");
  const gguf::TensorInfo& t = f.tensor("blk.2.ffn_up.weight");
  factory::TensorSpec spec{t.name, t.type, t.ne, factory::Init::matrix, 0};
  std::vector<float> rows(2 * t.ne[0]);
  factory::generate_rows(spec, 3, 5, 2, rows.data());  // rows 5 and 6 alone
  EXPECT_EQ(0, std::memcmp(rows.data(), f.data(t).data() + 5 * t.ne[0] * 4, rows.size() * 4));
}

TEST(FactoryWeights, ValuesHaveSensibleScales) {
  test::TempDir dir;
  factory::write_files(options("tiny", "F16", 1), factory::Kind::all, dir / "m.gguf");
  const gguf::File f = gguf::File::open(dir / "m.gguf");
  auto mean = [](const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  auto rms = [](const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s / static_cast<double>(v.size()));
  };
  for (const gguf::TensorInfo& t : f.tensors()) {
    const std::vector<float> v = values(f, t.name);
    for (float x : v) ASSERT_TRUE(std::isfinite(x) || t.name == "rope_freqs.weight") << t.name;
    if (t.name.find("layer_output_scale") != std::string::npos) {
      EXPECT_GT(v[0], 0.0f) << t.name;
      EXPECT_LE(v[0], 1.0f) << t.name;
    } else if (t.name.find("attn_k_norm") != std::string::npos) {
      EXPECT_NEAR(mean(v), 0.12, 0.02) << t.name;
    } else if (t.name.find("norm") != std::string::npos) {
      EXPECT_NEAR(mean(v), 1.0, 0.05) << t.name;
    } else if (t.ne.size() == 2) {  // projections ~ N(0, 1/fan_in)
      EXPECT_NEAR(rms(v) * std::sqrt(static_cast<double>(t.ne[0])), 1.0, 0.1) << t.name;
      EXPECT_NEAR(mean(v), 0.0, 0.05) << t.name;
    }
  }
  const std::vector<float> rope = values(f, "rope_freqs.weight");
  ASSERT_EQ(rope.size(), 32u);  // global head dim 64 / 2
  for (std::size_t i = 0; i < rope.size(); ++i) EXPECT_EQ(rope[i], i < 8 ? 1.0f : 1e30f) << i;
  const gguf::File mm = gguf::File::open(dir / "m-mmproj.gguf");
  EXPECT_NEAR(mean(values(mm, "v.patch_norm.1.weight")), 1.0, 0.01);
  EXPECT_NEAR(mean(values(mm, "v.patch_norm.1.bias")), 0.0, 0.01);
}

TEST(FactoryWeights, KQuantsFallBackOnShortRows) {
  test::TempDir dir;
  factory::write_model(options("tiny", "Q4_K_M", 1), dir / "t.gguf");
  const gguf::File t = gguf::File::open(dir / "t.gguf");
  EXPECT_EQ(t.tensor("token_embd.weight").type, DType::Q8_0);       // Q6_K, row 64
  EXPECT_EQ(t.tensor("blk.0.attn_q.weight").type, DType::Q5_0);     // Q4_K, row 64
  EXPECT_EQ(t.tensor("blk.5.ffn_down.weight").type, DType::Q8_0);   // Q6_K (use_more_bits), row 128
  EXPECT_EQ(t.tensor("blk.1.ffn_down.weight").type, DType::Q5_0);   // Q4_K, row 128
  EXPECT_EQ(t.tensor("blk.5.attn_output.weight").type, DType::Q4_K);  // global: row 4*64 = 256
  EXPECT_EQ(t.get_uint("general.file_type"), 15u);

  factory::write_model(options("small", "Q4_K_M", 1), dir / "s.gguf");
  const gguf::File s = gguf::File::open(dir / "s.gguf");
  for (const gguf::TensorInfo& ti : s.tensors()) {
    if (ti.ne.size() == 1) {
      EXPECT_EQ(ti.type, DType::F32) << ti.name;
    } else {
      EXPECT_TRUE(ti.type == DType::Q4_K || ti.type == DType::Q6_K) << ti.name << " " << dtype_name(ti.type);
    }
  }
  EXPECT_EQ(s.tensor("token_embd.weight").type, DType::Q6_K);
  EXPECT_LT(s.file_size(), 50u << 20);
}

TEST(FactoryWeights, AlignmentOptionWritesGeneralAlignment) {
  test::TempDir dir;
  auto o = options("tiny", "Q8_0", 1);
  o.alignment = 128;
  factory::write_model(o, dir / "a.gguf");
  const gguf::File f = gguf::File::open(dir / "a.gguf");
  EXPECT_EQ(f.get_uint("general.alignment"), 128u);
  EXPECT_EQ(f.alignment(), 128u);
  for (const gguf::TensorInfo& t : f.tensors()) EXPECT_EQ(t.offset % 128, 0u) << t.name;
}

// ---- CPU reference forward of a factory model (spec §2.1-2.3), enough to check the logits ----

struct Reference {
  const gguf::File& f;
  std::map<std::string, std::vector<float>> cache;

  const std::vector<float>& w(const std::string& name) {
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, values(f, name)).first;
    return it->second;
  }
  // y[out] = W[out][in] · x[in]
  std::vector<float> matvec(const std::string& name, const std::vector<float>& x) {
    const gguf::TensorInfo& t = f.tensor(name);
    const std::vector<float>& m = w(name);
    const std::size_t in = t.ne[0], out = t.ne[1];
    std::vector<float> y(out);
    for (std::size_t r = 0; r < out; ++r) {
      double s = 0;
      for (std::size_t c = 0; c < in; ++c) s += static_cast<double>(m[r * in + c]) * x[c];
      y[r] = static_cast<float>(s);
    }
    return y;
  }
  static void rms_norm(float* x, std::size_t n, const float* weight) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    const float r = static_cast<float>(1.0 / std::sqrt(s / static_cast<double>(n) + 1e-6));
    for (std::size_t i = 0; i < n; ++i) x[i] = x[i] * r * (weight ? weight[i] : 1.0f);
  }
  static void rope(float* x, std::size_t hd, int pos, float base, const float* freqs) {
    for (std::size_t j = 0; j < hd / 2; ++j) {
      const double theta = pos * std::pow(base, -2.0 * static_cast<double>(j) / static_cast<double>(hd)) /
                           (freqs ? freqs[j] : 1.0f);
      const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
      const float a = x[j], b = x[j + hd / 2];
      x[j] = a * c - b * s;
      x[j + hd / 2] = a * s + b * c;
    }
  }

  // Logits [T][n_vocab] for `tokens` at positions 0..T-1.
  std::vector<std::vector<float>> forward(const std::vector<int>& tokens) {
    const std::size_t d = f.get_uint("gemma4.embedding_length"), n_layer = f.get_uint("gemma4.block_count");
    const std::size_t H = f.get_uint("gemma4.attention.head_count");
    const std::vector<std::int64_t> n_kv = f.get_int_array("gemma4.attention.head_count_kv");
    const std::vector<bool> swa = f.get_bool_array("gemma4.attention.sliding_window_pattern");
    const int window = static_cast<int>(f.get_uint("gemma4.attention.sliding_window"));
    const std::size_t T = tokens.size(), n_vocab = f.tensor("token_embd.weight").ne[1];
    const std::vector<float>& emb = w("token_embd.weight");
    std::vector<std::vector<float>> x(T, std::vector<float>(d));
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t i = 0; i < d; ++i) x[t][i] = emb[static_cast<std::size_t>(tokens[t]) * d + i] * std::sqrt(static_cast<float>(d));
    for (std::size_t il = 0; il < n_layer; ++il) {
      const std::string p = "blk." + std::to_string(il) + ".";
      const bool s = swa[il];
      const std::size_t hd = f.get_uint(s ? "gemma4.attention.key_length_swa" : "gemma4.attention.key_length");
      const std::size_t hkv = static_cast<std::size_t>(n_kv[il]);
      const float base = static_cast<float>(f.get_float(s ? "gemma4.rope.freq_base_swa" : "gemma4.rope.freq_base"));
      const float* freqs = s ? nullptr : w("rope_freqs.weight").data();
      std::vector<std::vector<float>> q(T), k(T), v(T);
      for (std::size_t t = 0; t < T; ++t) {
        std::vector<float> a = x[t];
        rms_norm(a.data(), d, w(p + "attn_norm.weight").data());
        q[t] = matvec(p + "attn_q.weight", a);
        k[t] = matvec(p + "attn_k.weight", a);
        v[t] = s ? matvec(p + "attn_v.weight", a) : k[t];  // global: V = raw K
        for (std::size_t h = 0; h < H; ++h) {
          rms_norm(&q[t][h * hd], hd, w(p + "attn_q_norm.weight").data());
          rope(&q[t][h * hd], hd, static_cast<int>(t), base, freqs);
        }
        for (std::size_t h = 0; h < hkv; ++h) {
          rms_norm(&k[t][h * hd], hd, w(p + "attn_k_norm.weight").data());
          rope(&k[t][h * hd], hd, static_cast<int>(t), base, freqs);
          rms_norm(&v[t][h * hd], hd, nullptr);
        }
      }
      for (std::size_t t = 0; t < T; ++t) {
        std::vector<float> o(H * hd, 0.0f);
        for (std::size_t h = 0; h < H; ++h) {
          const std::size_t g = h / (H / hkv);
          std::vector<double> sc(t + 1, -INFINITY);
          double mx = -INFINITY;
          for (std::size_t j = 0; j <= t; ++j) {
            if (s && static_cast<int>(t - j) >= window) continue;
            double dot = 0;
            for (std::size_t i = 0; i < hd; ++i) dot += static_cast<double>(q[t][h * hd + i]) * k[j][g * hd + i];
            sc[j] = dot;  // attention scale 1.0
            mx = std::max(mx, dot);
          }
          double sum = 0;
          for (double& e : sc) sum += (e = std::exp(e - mx));
          for (std::size_t j = 0; j <= t; ++j)
            for (std::size_t i = 0; i < hd; ++i) o[h * hd + i] += static_cast<float>(sc[j] / sum) * v[j][g * hd + i];
        }
        std::vector<float> y = matvec(p + "attn_output.weight", o);
        rms_norm(y.data(), d, w(p + "post_attention_norm.weight").data());
        for (std::size_t i = 0; i < d; ++i) x[t][i] += y[i];
        std::vector<float> a = x[t];
        rms_norm(a.data(), d, w(p + "ffn_norm.weight").data());
        std::vector<float> gate = matvec(p + "ffn_gate.weight", a), up = matvec(p + "ffn_up.weight", a);
        for (std::size_t i = 0; i < gate.size(); ++i) {
          const float g = gate[i];
          gate[i] = 0.5f * g * (1.0f + std::tanh(0.7978845608f * (g + 0.044715f * g * g * g))) * up[i];
        }
        std::vector<float> down = matvec(p + "ffn_down.weight", gate);
        rms_norm(down.data(), d, w(p + "post_ffw_norm.weight").data());
        const float scale = w(p + "layer_output_scale.weight")[0];
        for (std::size_t i = 0; i < d; ++i) x[t][i] = (x[t][i] + down[i]) * scale;
      }
    }
    std::vector<std::vector<float>> logits(T, std::vector<float>(n_vocab));
    for (std::size_t t = 0; t < T; ++t) {
      rms_norm(x[t].data(), d, w("output_norm.weight").data());
      for (std::size_t r = 0; r < n_vocab; ++r) {
        double s = 0;
        for (std::size_t i = 0; i < d; ++i) s += static_cast<double>(emb[r * d + i]) * x[t][i];
        logits[t][r] = static_cast<float>(30.0 * std::tanh(s / 30.0));
      }
    }
    return logits;
  }
};

TEST(FactoryWeights, ForwardPassGivesFiniteNonDegenerateLogits) {
  test::TempDir dir;
  for (const char* type : {"F16", "Q4_K_M"}) {
    factory::write_model(options("tiny", type, 42), dir / "m.gguf");
    const gguf::File f = gguf::File::open(dir / "m.gguf");
    Reference ref{f, {}};
    const std::vector<int> tokens = {2, 105, 300, 301, 302, 400, 106, 107, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
    const auto logits = ref.forward(tokens);
    std::set<int> argmaxes;
    for (const std::vector<float>& row : logits) {
      double mean = 0, var = 0;
      for (float l : row) {
        ASSERT_TRUE(std::isfinite(l)) << type;
        mean += l;
      }
      mean /= static_cast<double>(row.size());
      for (float l : row) var += (l - mean) * (l - mean);
      const double sd = std::sqrt(var / static_cast<double>(row.size()));
      EXPECT_GT(sd, 0.2) << type;   // not flat
      EXPECT_LT(sd, 10.0) << type;  // not saturating the soft-cap
      argmaxes.insert(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
    }
    EXPECT_GE(argmaxes.size(), 3u) << type << ": the prediction should depend on the context";
  }
}

}  // namespace
}  // namespace tessera
