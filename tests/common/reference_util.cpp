// Shared plumbing of the CPU oracles (reference_util.h).
#include "common/reference_util.h"

#include "engine/error.h"
#include "runtime/quant/dequant.h"

namespace tessera::ref {
namespace {

std::string shape(const std::vector<std::uint64_t>& ne) {
  std::string s = "[";
  for (const std::uint64_t d : ne) s += (s.size() > 1 ? ", " : "") + std::to_string(d);
  return s + "]";
}

}  // namespace

void fail(const std::string& component, const std::filesystem::path& file, const std::string& msg) {
  throw Error("[" + component + "] " + file.string() + ": " + msg);
}

double dot(const float* a, const float* b, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(a[i]) * b[i];
    s1 += static_cast<double>(a[i + 1]) * b[i + 1];
    s2 += static_cast<double>(a[i + 2]) * b[i + 2];
    s3 += static_cast<double>(a[i + 3]) * b[i + 3];
  }
  for (; i < n; ++i) s0 += static_cast<double>(a[i]) * b[i];
  return (s0 + s1) + (s2 + s3);
}

std::vector<float> matvec(std::span<const float> w, std::span<const float> x, std::span<const float> bias) {
  const std::size_t n_in = x.size(), n_out = w.size() / n_in;
  std::vector<float> y(n_out);
  for (std::size_t r = 0; r < n_out; ++r)
    y[r] = static_cast<float>(dot(w.data() + r * n_in, x.data(), n_in) + (bias.empty() ? 0.0 : bias[r]));
  return y;
}

std::vector<float> matvec(const Matrix& m, std::span<const float> x) { return matvec(m.w, x.first(m.n_in)); }

void norm_slices(std::vector<float>& x, std::size_t width, std::span<const float> w, double eps) {
  for (std::size_t off = 0; off < x.size(); off += width) rms_norm(std::span<float>(x).subspan(off, width), w, eps);
}

// ---- Reader ----

void Reader::fail(const std::string& msg) const { ref::fail(component_, f_.path(), msg); }

const gguf::TensorInfo& Reader::info(const std::string& name, std::size_t n_dims) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) fail("tensor '" + name + "' is missing");
  if (t->ne.size() != n_dims)
    fail("tensor '" + name + "' is " + t->shape_string() + ", expected " + std::to_string(n_dims) + " dimensions");
  return *t;
}

std::vector<float> Reader::tensor(const std::string& name, const std::vector<std::uint64_t>& ne) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) fail("tensor '" + name + "' is missing");
  if (t->ne != ne) fail("tensor '" + name + "' is " + t->shape_string() + ", expected " + shape(ne));
  return dequantize(t->type, f_.data(*t), static_cast<std::int64_t>(t->n_elements));
}

Matrix Reader::matrix(const std::string& name, std::uint32_t n_in, std::uint32_t n_out) const {
  return Matrix{n_in, n_out, tensor(name, {n_in, n_out})};
}

std::string Reader::string_or(const std::string& key, const std::string& fallback) const {
  return f_.has(key) ? f_.get_string(key) : fallback;
}

double Reader::float_or(const std::string& key, double fallback) const {
  return f_.has(key) ? f_.get_float(key) : fallback;
}

bool Reader::flag_or(const std::string& key, bool fallback) const { return f_.has(key) ? f_.get_bool(key) : fallback; }

}  // namespace tessera::ref
