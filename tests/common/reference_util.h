// Plumbing the CPU oracles share (reference_forward, reference_mm, reference_drafter): errors that
// name the oracle and its file, tensor lookups with shape checks dequantized to f32, and the
// double-accumulating products. The maths of each oracle stays in its own file, from the spec.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/reference_forward.h"
#include "runtime/gguf/gguf.h"

namespace tessera::ref {

// Throws tessera::Error "[<component>] <file>: <msg>".
[[noreturn]] void fail(const std::string& component, const std::filesystem::path& file, const std::string& msg);

// sum a[i]·b[i] for i < n in double, four independent partial sums (no long dependency chain).
double dot(const float* a, const float* b, std::size_t n);

// y[n_out] = W[n_out, n_in] · x[n_in] (+ bias[n_out] when given); n_in = x.size().
std::vector<float> matvec(std::span<const float> w, std::span<const float> x, std::span<const float> bias = {});
// y[m.n_out] = m · x[m.n_in].
std::vector<float> matvec(const Matrix& m, std::span<const float> x);

// RMSNorm (rms_norm) of every `width`-wide slice of x: rows of a [T, width], heads of a [T, H, width].
void norm_slices(std::vector<float>& x, std::size_t width, std::span<const float> w, double eps);

// Tensor and metadata lookups on one GGUF for the oracle `component` ("reference",
// "reference-drafter", ...); every tensor comes out dequantized to f32. Errors read
// "[<component>] <file>: tensor '<name>' is missing" or "... is [a, b], expected [c, d]".
class Reader {
 public:
  Reader(const gguf::File& f, std::string component) : f_(f), component_(std::move(component)) {}

  [[noreturn]] void fail(const std::string& msg) const;
  bool has(const std::string& name) const { return f_.find_tensor(name) != nullptr; }

  // The tensor's description, checked to be there with `n_dims` dimensions.
  const gguf::TensorInfo& info(const std::string& name, std::size_t n_dims) const;
  // The tensor of shape ne (GGUF order), dequantized.
  std::vector<float> tensor(const std::string& name, const std::vector<std::uint64_t>& ne) const;
  // A weight [n_in, n_out] (n_out rows of n_in values).
  Matrix matrix(const std::string& name, std::uint32_t n_in, std::uint32_t n_out) const;

  // Metadata, or `fallback` when the key is absent.
  std::string string_or(const std::string& key, const std::string& fallback) const;
  double float_or(const std::string& key, double fallback) const;
  bool flag_or(const std::string& key, bool fallback) const;

 private:
  const gguf::File& f_;
  std::string component_;
};

}  // namespace tessera::ref
