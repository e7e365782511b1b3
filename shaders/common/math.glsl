// Numerically careful math helpers: some drivers compute tanh as (e^2x - 1) / (e^2x + 1),
// which loses relative precision near 0 and overflows to NaN for large |x|.
#ifndef TESSERA_MATH_GLSL
#define TESSERA_MATH_GLSL

// tanh with ~1 ulp-level relative error near 0 (odd Taylor series below 0.25) and no overflow.
float stable_tanh(float x) {
  const float ax = abs(x);
  if (ax < 0.25) {
    const float x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))));
  }
  const float e = exp(-2.0 * min(ax, 20.0));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

// gelu with the tanh approximation (gelu_pytorch_tanh), Gemma's FFN activation.
float gelu_tanh(float g) { return 0.5 * g * (1.0 + stable_tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))); }

#endif
