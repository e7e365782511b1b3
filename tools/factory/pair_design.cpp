// The target/drafter pair design of pair_design.h: the hidden matrices (B, the signs of w, γ)
// and the rows they give.
#include "tools/factory/pair_design.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/error.h"
#include "runtime/quant/dequant.h"
#include "runtime/quant/quantize.h"
#include "tools/factory/rng.h"

namespace tessera::factory {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The inverse of the n × n matrix m (row-major), Gauss-Jordan with partial pivoting.
std::vector<double> invert(std::vector<double> m, std::uint32_t n) {
  std::vector<double> inv(static_cast<std::size_t>(n) * n, 0.0);
  for (std::uint32_t i = 0; i < n; ++i) inv[static_cast<std::size_t>(i) * n + i] = 1.0;
  const auto at = [n](std::vector<double>& a, std::uint32_t r, std::uint32_t c) -> double& {
    return a[static_cast<std::size_t>(r) * n + c];
  };
  for (std::uint32_t col = 0; col < n; ++col) {
    std::uint32_t piv = col;
    for (std::uint32_t r = col + 1; r < n; ++r)
      if (std::fabs(at(m, r, col)) > std::fabs(at(m, piv, col))) piv = r;
    if (std::fabs(at(m, piv, col)) < 1e-12) throw Error("[factory] pair design: singular pre-projection");
    for (std::uint32_t c = 0; c < n; ++c) {
      std::swap(at(m, col, c), at(m, piv, c));
      std::swap(at(inv, col, c), at(inv, piv, c));
    }
    const double p = at(m, col, col);
    for (std::uint32_t c = 0; c < n; ++c) {
      at(m, col, c) /= p;
      at(inv, col, c) /= p;
    }
    for (std::uint32_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = at(m, r, col);
      if (f == 0) continue;
      for (std::uint32_t c = 0; c < n; ++c) {
        at(m, r, c) -= f * at(m, col, c);
        at(inv, r, c) -= f * at(inv, col, c);
      }
    }
  }
  return inv;
}

}  // namespace

void check_pair_options(const PairOptions& o) {
  if (!std::isfinite(o.drafter_noise) || o.drafter_noise < 0)
    throw Error("[factory] --drafter-noise " + std::to_string(o.drafter_noise) + " must be finite and >= 0");
  if (o.drafter_noise != 0 && !o.markov)
    throw Error("[factory] --drafter-noise needs --markov (noise on a random drafter means nothing)");
}

void apply_pair_design(FilePlan& plan) {
  const bool target = plan.architecture == "gemma4";
  if (!target && plan.architecture != "gemma4-assistant")
    throw Error("[factory] the pair design applies to a model or a drafter, not '" + plan.architecture + "'");
  std::uint32_t n_set = 0;
  for (TensorSpec& t : plan.tensors) {
    const Init before = t.init;
    if (ends_with(t.name, ".post_attention_norm.weight") || ends_with(t.name, ".post_ffw_norm.weight"))
      t.init = Init::zero;
    else if (ends_with(t.name, ".layer_output_scale.weight"))
      t.init = Init::one;
    else if (t.name == "token_embd.weight")
      t.init = target ? Init::pair_embd : Init::pair_draft_embd;
    else if (t.name == "output_norm.weight")
      t.init = target ? Init::pair_out_norm : Init::one;
    else if (!target && t.name == "nextn.pre_projection.weight")
      t.init = Init::pair_pre_proj;
    n_set += t.init != before ? 1 : 0;
  }
  if (n_set < (target ? 2u : 3u))
    throw Error("[factory] the " + plan.architecture + " plan lacks tensors of the pair design");
}

PairDesign::PairDesign(const Preset& p, const TypeChoice& type, std::uint64_t seed, const Vocab& vocab,
                       double drafter_noise)
    : seed_(seed),
      d_(p.text.n_embd),
      h_(p.drafter.n_embd),
      n_vocab_(vocab.size()),
      softcap_(p.text.final_softcap),
      noise_(drafter_noise) {
  r_ = std::min({h_, d_, kMaxRank}) & ~1u;  // even: half the rows on each sign
  if (r_ < 2 || n_vocab_ < 2)
    throw Error("[factory] the pair design needs a drafter and a target width of at least 2, and a vocabulary");
  embd_type_ = fallback_type(matrix_type(type, MatrixRole::token_embd, 0, 1), d_);  // as plan_model types it
  suppressed_.assign(n_vocab_, false);
  for (const std::int32_t id : vocab.suppress)
    if (id >= 0 && static_cast<std::uint32_t>(id) < n_vocab_) suppressed_[static_cast<std::size_t>(id)] = true;

  init_basis();
  init_pre_inverse(type);

  // α, then γ, from the scores of the unit directions â (a with α = 0).
  const std::vector<float> s0 = direction_scores();
  alpha_ = shared_coordinate(s0);
  gamma_ = calibrate(s0);
}

// The signs of w (a random half of the coordinates +1, the rest -1) and B: Gaussian rows, the
// first r/2 on the + coordinates only, the others on the - ones, orthonormalized (modified
// Gram-Schmidt, twice), so that M = B·diag(sign)·Bᵀ = diag(I, -I) exactly.
void PairDesign::init_basis() {
  std::vector<std::uint32_t> perm(d_);
  for (std::uint32_t i = 0; i < d_; ++i) perm[i] = i;
  Rng rng(stream_seed(seed_, "pair.w", 0));
  for (std::uint32_t i = d_ - 1; i > 0; --i)
    std::swap(perm[i], perm[std::min<std::uint32_t>(i, static_cast<std::uint32_t>(rng.uniform() * (i + 1)))]);
  sign_.assign(d_, -1.0f);
  for (std::uint32_t i = 0; i < d_ / 2; ++i) sign_[perm[i]] = 1.0f;

  b_.assign(static_cast<std::size_t>(r_) * d_, 0.0);
  for (std::uint32_t k = 0; k < r_; ++k) {
    Rng row(stream_seed(seed_, "pair.b", k));
    const float want = k < r_ / 2 ? 1.0f : -1.0f;
    for (std::uint32_t i = 0; i < d_; ++i) {
      const float x = row.normal();
      if (sign_[i] == want) b_[static_cast<std::size_t>(k) * d_ + i] = x;
    }
  }
  for (int pass = 0; pass < 2; ++pass)
    for (std::uint32_t k = 0; k < r_; ++k) {
      double* bk = b_.data() + static_cast<std::size_t>(k) * d_;
      for (std::uint32_t m = 0; m < k; ++m) {
        const double* bm = b_.data() + static_cast<std::size_t>(m) * d_;
        double dot = 0;
        for (std::uint32_t i = 0; i < d_; ++i) dot += bk[i] * bm[i];
        for (std::uint32_t i = 0; i < d_; ++i) bk[i] -= dot * bm[i];
      }
      double ss = 0;
      for (std::uint32_t i = 0; i < d_; ++i) ss += bk[i] * bk[i];
      for (std::uint32_t i = 0; i < d_; ++i) bk[i] /= std::sqrt(ss);
    }
}

// (B' Bᵀ)⁻¹, B' = the pre-projection rows as stored (quantized to its type and back) / c: the
// drafter's table undoes the rounding of the pre-projection on B's row space.
void PairDesign::init_pre_inverse(const TypeChoice& type) {
  const DType pre_type = fallback_type(matrix_type(type, MatrixRole::projection, 0, 1), 2ull * d_);
  std::vector<float> pre(2ull * d_), back(2ull * d_);
  std::vector<std::byte> packed(static_cast<std::size_t>(dtype_bytes(pre_type, 2ull * d_)));
  std::vector<double> c(static_cast<std::size_t>(r_) * r_);
  for (std::uint32_t k = 0; k < r_; ++k) {
    pre_row(k, pre.data());
    quantize_row(pre_type, pre.data(), packed.data(), 2ll * d_);
    dequantize_row(pre_type, packed.data(), back.data(), 2ll * d_);
    for (std::uint32_t m = 0; m < r_; ++m) {
      double x = 0;
      for (std::uint32_t i = 0; i < d_; ++i) x += back[i] * b_[static_cast<std::size_t>(m) * d_ + i];
      c[static_cast<std::size_t>(k) * r_ + m] = x / pre_scale();
    }
  }
  cinv_ = invert(c, r_);
}

std::vector<float> PairDesign::a_row(std::uint64_t t) const {
  std::vector<float> a(r_, 0.0f);
  if (suppressed_[t]) {  // scores -α against every live token: never a live token's best
    a[r_ - 1] = 1.0f;
    return a;
  }
  Rng rng(stream_seed(seed_, "pair.a", t));
  double ss = 0;
  for (std::uint32_t k = 0; k + 1 < r_; ++k) {
    a[k] = rng.normal();
    ss += static_cast<double>(a[k]) * a[k];
  }
  const double scale = std::sqrt((1.0 - alpha_ * alpha_) / ss);
  for (std::uint32_t k = 0; k + 1 < r_; ++k) a[k] = static_cast<float>(a[k] * scale);
  a[r_ - 1] = static_cast<float>(alpha_);
  return a;
}

std::vector<std::uint32_t> PairDesign::calibration_tokens() const {
  std::vector<std::uint32_t> live;
  for (std::uint32_t t = 0; t < n_vocab_; ++t)
    if (!suppressed_[t]) live.push_back(t);
  const std::size_t n = std::min<std::size_t>(kCalibrationTokens, live.size());
  std::vector<std::uint32_t> out(n);
  for (std::size_t s = 0; s < n; ++s) out[s] = live[s * live.size() / n];
  return out;
}

// s0[n, n_vocab]: â_jᵀ J â_t, J = diag(I_{r/2}, -I_{r/2}) = M / γ, for the calibration tokens t
// (rows) and every token j, from the directions alone (called while α is still 0); -inf at
// suppressed j. Each â_j is drawn once, not stored.
std::vector<float> PairDesign::direction_scores() const {
  const std::vector<std::uint32_t> tokens = calibration_tokens();
  const std::size_t n = tokens.size();
  std::vector<float> mt(n * r_);  // J â_t per calibration token
  for (std::size_t s = 0; s < n; ++s) {
    const std::vector<float> at = a_row(tokens[s]);
    for (std::uint32_t k = 0; k < r_; ++k) mt[s * r_ + k] = (k < r_ / 2 ? 1.0f : -1.0f) * at[k];
  }
  std::vector<float> s0(n * n_vocab_);
  for (std::uint32_t j = 0; j < n_vocab_; ++j) {
    const std::vector<float> aj = a_row(j);
    for (std::size_t s = 0; s < n; ++s) {
      double x = 0;
      for (std::uint32_t k = 0; k < r_; ++k) x += static_cast<double>(aj[k]) * mt[s * r_ + k];
      s0[s * n_vocab_ + j] = suppressed_[j] ? -INFINITY : static_cast<float>(x);
    }
  }
  return s0;
}

// With a = (√(1-α²)·â, α) a score s of the directions becomes (1-α²)·s - α² (α sits on the -I
// side), which is 0 for the median best m of the calibration tokens when α² = m / (1 + m).
double PairDesign::shared_coordinate(const std::vector<float>& s0) const {
  const std::size_t n = s0.size() / n_vocab_;
  std::vector<double> best(n);
  for (std::size_t s = 0; s < n; ++s)
    best[s] = *std::max_element(s0.begin() + static_cast<std::ptrdiff_t>(s * n_vocab_),
                                s0.begin() + static_cast<std::ptrdiff_t>((s + 1) * n_vocab_));
  std::nth_element(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(n / 2), best.end());
  const double m = std::max(0.0, best[n / 2]);
  return std::sqrt(m / (1 + m));
}

void PairDesign::pre_row(std::uint64_t k, float* out) const {
  std::fill(out, out + 2ull * d_, 0.0f);
  if (k < r_)
    for (std::uint32_t i = 0; i < d_; ++i) out[i] = static_cast<float>(pre_scale() * b_[k * d_ + i]);
}

void PairDesign::embd_row(std::uint64_t t, float* out) const {
  const std::vector<float> a = a_row(t);
  for (std::uint32_t i = 0; i < d_; ++i) {
    double s = 0;
    for (std::uint32_t k = 0; k < r_; ++k) s += a[k] * b_[static_cast<std::size_t>(k) * d_ + i];
    out[i] = static_cast<float>(s);
  }
}

void PairDesign::draft_row(std::uint64_t j, float* out) const {
  // E'_j: the target's row as stored (quantized to its token_embd type and back).
  std::vector<float> e(d_), eq(d_);
  embd_row(j, e.data());
  std::vector<std::byte> packed(static_cast<std::size_t>(dtype_bytes(embd_type_, d_)));
  quantize_row(embd_type_, e.data(), packed.data(), d_);
  dequantize_row(embd_type_, packed.data(), eq.data(), d_);

  std::vector<double> g(r_);  // B W E'_j
  for (std::uint32_t k = 0; k < r_; ++k) {
    const double* bk = b_.data() + static_cast<std::size_t>(k) * d_;
    for (std::uint32_t i = 0; i < d_; ++i) g[k] += bk[i] * sign_[i] * eq[i];
  }
  const double scale = std::sqrt(static_cast<double>(d_) / h_) * gamma_;
  double ss = 0;
  std::fill(out, out + h_, 0.0f);
  for (std::uint32_t m = 0; m < r_; ++m) {  // √(d/h)·γ·(B' Bᵀ)⁻ᵀ B diag(±1) E'_j
    double x = 0;
    for (std::uint32_t k = 0; k < r_; ++k) x += cinv_[static_cast<std::size_t>(k) * r_ + m] * g[k];
    out[m] = static_cast<float>(scale * x);
    ss += static_cast<double>(out[m]) * out[m];
  }
  if (noise_ > 0) {
    const double sigma = noise_ * std::sqrt(ss / r_);
    Rng rng(stream_seed(seed_, "pair.noise", j));
    for (std::uint32_t k = 0; k < r_; ++k) out[k] += static_cast<float>(sigma * rng.normal());
  }
}

// γ from the unquantized logits at γ = 1, z_t[j] = √d·a_jᵀ M a_t / γ, of the calibration
// tokens t: the smallest γ whose median top-1 probability (softmax of softcap(γ·z_t)) reaches
// kMedianTop1 (the first crossing: further on the soft-cap flattens the top logits again), else
// the γ of the highest median seen.
double PairDesign::calibrate(const std::vector<float>& s0) {
  const std::size_t n = s0.size() / n_vocab_;
  const double sd = std::sqrt(static_cast<double>(d_)), keep = 1 - alpha_ * alpha_, shift = alpha_ * alpha_;
  const double cap = softcap_;
  const auto logit = [&](double gamma, float s) {  // softcap(γ·z), z = √d·((1-α²)·s - α²)
    const double z = gamma * sd * (keep * s - shift);
    return cap > 0 ? cap * std::tanh(z / cap) : z;
  };
  std::vector<float> best(n);
  for (std::size_t s = 0; s < n; ++s)
    best[s] = *std::max_element(s0.begin() + static_cast<std::ptrdiff_t>(s * n_vocab_),
                                s0.begin() + static_cast<std::ptrdiff_t>((s + 1) * n_vocab_));
  const auto median_top1 = [&](double gamma) {
    std::vector<double> p(n);
    for (std::size_t s = 0; s < n; ++s) {
      const double top = logit(gamma, best[s]);
      double sum = 0;
      for (std::uint32_t j = 0; j < n_vocab_; ++j) {
        const float x = s0[s * n_vocab_ + j];
        if (std::isfinite(x)) sum += std::exp(logit(gamma, x) - top);
      }
      p[s] = 1.0 / sum;
    }
    std::nth_element(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n / 2), p.end());
    return p[n / 2];
  };
  // Doubling to the first γ that reaches the target, then bisection between it and its half.
  double lo = 0, hi = 1.0 / 64;
  double best_gamma = hi;
  median_top1_ = 0;
  for (; hi < 1e4; lo = hi, hi *= 2) {
    const double m = median_top1(hi);
    if (m > median_top1_) median_top1_ = m, best_gamma = hi;
    if (m >= kMedianTop1) break;
  }
  if (median_top1_ < kMedianTop1 || lo == 0) return best_gamma;  // never reached: the best seen
  for (int it = 0; it < 6; ++it) {  // to a ratio of 2^(1/64)
    const double mid = std::sqrt(lo * hi);
    const double m = median_top1(mid);
    (m < kMedianTop1 ? lo : hi) = mid;
    if (m >= kMedianTop1) median_top1_ = m;
  }
  return hi;
}

void PairDesign::generate_rows(const TensorSpec& t, std::uint64_t row0, std::uint64_t n_rows, float* out) const {
  const std::uint64_t ne0 = t.ne.at(0);
  const auto expect = [&](std::uint64_t n0) {
    if (ne0 != n0)
      throw Error("[factory] pair design: tensor '" + t.name + "' has rows of " + std::to_string(ne0) + ", expected " +
                  std::to_string(n0));
  };
  for (std::uint64_t r = 0; r < n_rows; ++r) {
    float* o = out + r * ne0;
    const std::uint64_t row = row0 + r;
    switch (t.init) {
      case Init::pair_embd:
        expect(d_);
        embd_row(row, o);
        break;
      case Init::pair_out_norm:
        expect(d_);
        for (std::uint32_t i = 0; i < d_; ++i) o[i] = static_cast<float>(gamma_ * sign_[i]);
        break;
      case Init::pair_pre_proj:
        expect(2ull * d_);
        pre_row(row, o);
        break;
      case Init::pair_draft_embd:
        expect(h_);
        draft_row(row, o);
        break;
      default:
        throw Error("[factory] pair design: tensor '" + t.name + "' is not one of its tensors");
    }
  }
}

}  // namespace tessera::factory
