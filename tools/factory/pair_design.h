// Target/drafter pairs with a controlled agreement (FactoryOptions::pair; --markov,
// --drafter-noise): random weights make draft acceptance meaningless, so the two files of one
// seed are designed together, with the names, shapes and types of ordinary factory files.
//
// Target: a first-order Markov chain. Every post_attention_norm / post_ffw_norm weight is 0 and
// every layer_output_scale 1, so each sub-block adds exactly 0 (the kernels still run) and the
// final hidden is the embedding x_t = √d·E_t, whatever the context. With W = diag(w_out):
//   logits_j = softcap(E_j · (rms_norm(x_t) ⊙ w_out)) = softcap(√d · E_jᵀ W E_t / ‖E_t‖),
// so next(t) = argmax_j E_jᵀ W E_t. E is low-rank: E_t = Bᵀ a_t, B [r, d] with orthonormal
// rows (r = min(h, d, 64), even) and a_t a unit r-vector. w_out = γ·(±1) with exactly half of
// each sign, the first r/2 rows of B supported on the + coordinates and the others on the -
// ones, so M = B W Bᵀ = γ·diag(I, -I): an indefinite form (t is rarely its own successor) whose
// successors spread over the vocabulary (no hub tokens). a_t = (√(1-α²)·â_t, α): â_t a random
// unit (r-1)-vector, α a coordinate shared by every token on the -I side, which lowers every
// logit of t by √d·γ·α²; α puts the median best logit near 0, where the soft-cap is linear, so
// γ can make the distributions peaked: γ is set so the median top-1 probability (temperature 1,
// soft-capped) over 128 sampled tokens is 0.75. Suppressed tokens have a = (0, ..., 0, 1): their
// logit for a live t is -√d·γ·α, far below t's best (near 0, see α), so the drafter (which has
// no suppression) never proposes them either.
//   The score is symmetric (S(j,t) = S(t,j)), so along a greedy chain it never falls and every
// cycle has length 2 (or 1): greedy text ends in a two-token loop after a tail of a few steps
// (tiny, seed 11: 5-8); sampling at temperature 1 keeps moving.
//
// Drafter (width h >= r): pre_projection = [c·B padded with zero rows to h | 0] (c = √(h/d): u =
// c·√d·B E'_t has rms 1; the h-half is 0, so the drafter ignores the target hidden), post norms 0,
// layer scales 1, output_norm 1, so y = rms_norm(u) = √h·B' E'_t / ‖B' E'_t‖ (B' = the stored,
// rounded pre-projection / c). Its table row j is D_j = √(d/h)·(B' Bᵀ)⁻ᵀ B W E'_j padded with
// zeros, E'_j the target's stored (rounded) row, so
//   D_j · y = √d · E'_jᵀ W Bᵀ B E'_t / ‖B' E'_t‖ = the target's logit before the soft-cap
// up to the rounding that leaves B's row space (second order: W maps the row space to itself)
// and the rounding of the drafter's own table. drafter_noise ε adds ε·rms(row)·N(0, 1) to each of
// the r live entries of every row (one fixed noise pattern, scaled by ε), so greedy agreement
// falls from ~100% as ε grows. post_projection stays random, as do all other tensors.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/dtype.h"
#include "tools/factory/plan.h"
#include "tools/factory/presets.h"
#include "tools/factory/recipe.h"
#include "tools/factory/vocab.h"

namespace tessera::factory {

struct PairOptions {
  bool markov = false;       // design the target as a Markov chain and the drafter to reproduce it
  double drafter_noise = 0;  // ε >= 0: relative Gaussian noise on the drafter's table (needs markov)
};

// Throws tessera::Error "[factory] ..." for noise without markov, or a negative / non-finite ε.
void check_pair_options(const PairOptions& o);

// Marks the tensors of a model (arch gemma4) or drafter (gemma4-assistant) plan the design sets
// (Init::zero, one, pair_*); names, shapes and types stay as planned.
void apply_pair_design(FilePlan& plan);

class PairDesign {
 public:
  // The hidden matrices of the design for one seed: B, the signs of w, γ. `type` decides the
  // target's token_embd type (the drafter reproduces the stored rows); `vocab` its size and
  // suppressed tokens.
  PairDesign(const Preset& p, const TypeChoice& type, std::uint64_t seed, const Vocab& vocab, double drafter_noise);

  std::uint32_t rank() const { return r_; }  // r
  double gamma() const { return gamma_; }    // |w_i|
  double median_top1() const { return median_top1_; }  // what γ gives on the calibration tokens
  // Rows [row0, row0 + n_rows) of a tensor with an Init::pair_* initializer into out.
  void generate_rows(const TensorSpec& t, std::uint64_t row0, std::uint64_t n_rows, float* out) const;

  static constexpr std::uint32_t kMaxRank = 64;      // caps the cost of a row (r·d) on the 12b preset
  static constexpr double kMedianTop1 = 0.75;        // γ's target
  static constexpr std::uint32_t kCalibrationTokens = 128;

 private:
  void init_basis();                                                 // sign_, b_
  void init_pre_inverse(const TypeChoice& type);                     // cinv_
  double pre_scale() const { return std::sqrt(static_cast<double>(h_) / d_); }  // c
  void pre_row(std::uint64_t k, float* out) const;                   // [2·d] pre-projection row k
  std::vector<float> a_row(std::uint64_t t) const;                   // [r] unit
  void embd_row(std::uint64_t t, float* out) const;                  // [d] E_t = Bᵀ a_t
  void draft_row(std::uint64_t j, float* out) const;                 // [h] D_j (+ noise)
  std::vector<std::uint32_t> calibration_tokens() const;             // live tokens spread over the vocabulary
  std::vector<float> direction_scores() const;                       // [calibration tokens, n_vocab]
  double shared_coordinate(const std::vector<float>& s0) const;      // α from direction_scores()
  double calibrate(const std::vector<float>& s0);                    // γ from direction_scores() and α

  std::uint64_t seed_ = 0;
  std::uint32_t d_ = 0, h_ = 0, r_ = 0, n_vocab_ = 0;
  float softcap_ = 0;
  DType embd_type_ = DType::F32;   // the target's token_embd type
  double noise_ = 0;               // ε
  double alpha_ = 0;               // α: the coordinate every live a_t shares
  double gamma_ = 1;               // γ
  double median_top1_ = 0;         // median top-1 probability at γ (calibration tokens)
  std::vector<double> b_;          // [r, d] orthonormal rows
  std::vector<double> cinv_;       // [r, r] (B' Bᵀ)⁻¹, B' the stored pre-projection rows / c
  std::vector<float> sign_;        // [d] ±1
  std::vector<bool> suppressed_;   // [n_vocab]
};

}  // namespace tessera::factory
