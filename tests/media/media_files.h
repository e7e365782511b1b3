// Test helpers for runtime/media: encoders for the files the tests decode (PNG, BMP, JPEG through
// stb_image_write, static in each test file; 16-bit PNG and GIF built by hand) and file writing.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#elif defined(_MSC_VER)
#pragma warning(push, 0)
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#elif defined(_MSC_VER)
#pragma warning(pop)
#endif

namespace tessera::test {

using Bytes = std::vector<std::uint8_t>;

inline void append_to(void* ctx, void* data, int size) {
  auto* out = static_cast<Bytes*>(ctx);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// comp: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; pixels interleaved, 8 bits.
inline Bytes encode_png(int w, int h, int comp, const std::vector<std::uint8_t>& px) {
  Bytes out;
  if (!stbi_write_png_to_func(append_to, &out, w, h, comp, px.data(), w * comp)) throw std::runtime_error("png encode");
  return out;
}
inline Bytes encode_bmp(int w, int h, int comp, const std::vector<std::uint8_t>& px) {
  Bytes out;
  if (!stbi_write_bmp_to_func(append_to, &out, w, h, comp, px.data())) throw std::runtime_error("bmp encode");
  return out;
}
inline Bytes encode_jpg(int w, int h, int comp, const std::vector<std::uint8_t>& px, int quality = 95) {
  Bytes out;
  if (!stbi_write_jpg_to_func(append_to, &out, w, h, comp, px.data(), quality)) throw std::runtime_error("jpg encode");
  return out;
}

inline void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

inline std::uint32_t crc32(std::span<const std::uint8_t> d) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t x : d) {
    c ^= x;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

inline void png_chunk(Bytes& png, const char* type, const Bytes& data) {
  put_be32(png, static_cast<std::uint32_t>(data.size()));
  Bytes body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_be32(png, crc32(body));
}

// A 16-bit PNG: color_type 0 (gray, 1 sample) or 2 (RGB, 3 samples); samples row-major.
inline Bytes encode_png16(std::uint32_t w, std::uint32_t h, int color_type, const std::vector<std::uint16_t>& samples) {
  const std::size_t per_px = color_type == 2 ? 3 : 1;
  Bytes raw;
  for (std::uint32_t y = 0; y < h; ++y) {
    raw.push_back(0);  // filter: none
    for (std::size_t i = 0; i < w * per_px; ++i) {
      const std::uint16_t v = samples[y * w * per_px + i];
      raw.push_back(static_cast<std::uint8_t>(v >> 8));
      raw.push_back(static_cast<std::uint8_t>(v));
    }
  }
  int zlen = 0;
  unsigned char* z = stbi_zlib_compress(raw.data(), static_cast<int>(raw.size()), &zlen, 8);
  Bytes png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  Bytes ihdr;
  put_be32(ihdr, w);
  put_be32(ihdr, h);
  ihdr.insert(ihdr.end(), {16, static_cast<std::uint8_t>(color_type), 0, 0, 0});
  png_chunk(png, "IHDR", ihdr);
  png_chunk(png, "IDAT", Bytes(z, z + zlen));
  std::free(z);
  png_chunk(png, "IEND", {});
  return png;
}

// A GIF with a 4-colour global palette and one image per entry of `frames` (indices 0..3, w*h
// each). LZW with 3-bit codes and a clear code every two pixels, so the code size never grows.
inline Bytes encode_gif(std::uint16_t w, std::uint16_t h, const std::uint8_t (&palette)[4][3],
                        const std::vector<std::vector<std::uint8_t>>& frames) {
  Bytes g = {'G', 'I', 'F', '8', '9', 'a'};
  auto le16 = [&](std::uint16_t v) {
    g.push_back(static_cast<std::uint8_t>(v));
    g.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  le16(w);
  le16(h);
  g.insert(g.end(), {0x81, 0, 0});  // global palette of 2^(1+1) = 4 entries
  for (const auto& c : palette) g.insert(g.end(), c, c + 3);
  for (const auto& f : frames) {
    g.push_back(0x2C);
    le16(0);
    le16(0);
    le16(w);
    le16(h);
    g.push_back(0);
    g.push_back(2);  // LZW minimum code size: clear = 4, end = 5
    Bytes data;
    std::uint32_t acc = 0;
    int bits = 0;
    auto code = [&](std::uint32_t c) {
      acc |= c << bits;
      bits += 3;
      while (bits >= 8) {
        data.push_back(static_cast<std::uint8_t>(acc));
        acc >>= 8;
        bits -= 8;
      }
    };
    for (std::size_t i = 0; i < f.size(); ++i) {
      if (i % 2 == 0) code(4);
      code(f[i]);
    }
    code(5);
    if (bits > 0) data.push_back(static_cast<std::uint8_t>(acc));
    for (std::size_t i = 0; i < data.size(); i += 255) {
      const std::size_t n = std::min<std::size_t>(255, data.size() - i);
      g.push_back(static_cast<std::uint8_t>(n));
      g.insert(g.end(), data.begin() + static_cast<std::ptrdiff_t>(i), data.begin() + static_cast<std::ptrdiff_t>(i + n));
    }
    g.push_back(0);
  }
  g.push_back(0x3B);
  return g;
}

inline void write_file(const std::filesystem::path& p, std::span<const std::uint8_t> bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

}  // namespace tessera::test
