// Image decoding and pre-processing (image.h). stb_image and stb_image_resize are compiled here,
// static, so no other translation unit can clash with them; their warnings are not ours.
#include "runtime/media/image.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/error.h"
#include "runtime/media/media_file.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#elif defined(_MSC_VER)
#pragma warning(push, 0)
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
// The formats an image prompt needs; PSD, HDR, PIC and PNM are left out (less hostile-input surface).
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_TGA
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#elif defined(_MSC_VER)
#pragma warning(pop)
#endif

#ifdef TESSERA_HAVE_WEBP
#include <webp/decode.h>
#include <webp/types.h>
#endif

namespace tessera::media {
namespace {

[[noreturn]] void fail(const std::string& name, const std::string& msg) {
  throw Error("[image] " + name + ": " + msg);
}

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? r : "unknown error";
}

void check_pixels(const std::string& name, std::uint64_t w, std::uint64_t h) {
  if (w == 0 || h == 0) fail(name, "image is " + std::to_string(w) + "x" + std::to_string(h) + " (a zero side)");
  if (w * h > kMaxImagePixels)
    fail(name, "image is " + std::to_string(w) + "x" + std::to_string(h) + " = " + std::to_string(w * h) +
                   " pixels, more than the limit of " + std::to_string(kMaxImagePixels) + " (kMaxImagePixels)");
}

// Interleaved 8- or 16-bit samples with `channels` (1..4) per pixel to RGB f32 in [0, 1]: gray
// expands to RGB, alpha is dropped (PIL's convert("RGB")).
template <typename T>
Image to_rgb(const T* px, std::uint32_t w, std::uint32_t h, int channels, float scale) {
  Image img;
  img.width = w;
  img.height = h;
  const std::size_t n = std::size_t{w} * h;
  img.rgb.resize(n * 3);
  const std::size_t step = static_cast<std::size_t>(channels);
  for (std::size_t i = 0; i < n; ++i) {
    const T* p = px + i * step;
    for (std::size_t c = 0; c < 3; ++c) img.rgb[i * 3 + c] = static_cast<float>(p[channels >= 3 ? c : 0]) * scale;
  }
  return img;
}

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

// --- JPEG Huffman-table guard ------------------------------------------------------------------
// stb_image 2.27 (Debian 12's libstb-dev) writes past its Huffman arrays when a DHT table declares
// more than 256 codes (fixed upstream in 2.28). jpeg_guard refuses such files before stb sees them:
// it checks every DHT segment stb could parse, walking the segments before the first scan as stb
// does and, after it, every marker position up to the first EOI; stb then only gets the bytes up to
// that EOI (`len`), so it cannot reach a table that was not checked.

// Position after the SOI marker (stb accepts fill bytes: FF FF D8), or 0 when not a JPEG.
std::size_t jpeg_soi_end(std::span<const std::uint8_t> b) {
  std::size_t p = 0;
  while (p < b.size() && b[p] == 0xFF) ++p;
  return p >= 1 && p < b.size() && b[p] == 0xD8 ? p + 1 : 0;
}

// The DHT segment whose length field starts at p (bytes past the end read as 0, like stb's reader).
bool jpeg_dht_ok(std::span<const std::uint8_t> b, std::size_t p) {
  auto at = [&](std::size_t i) -> std::uint32_t { return i < b.size() ? b[i] : 0; };
  long left = static_cast<long>(at(p) << 8 | at(p + 1)) - 2;
  p += 2;
  while (left > 0) {
    const std::uint32_t q = at(p++);
    if ((q >> 4) > 1 || (q & 15) > 3) return true;  // stb refuses the table itself
    std::uint32_t n = 0;
    for (int i = 0; i < 16; ++i) n += at(p++);
    if (n > 256) return false;
    p += n;
    left -= 17 + static_cast<long>(n);
  }
  return true;
}

void jpeg_guard(std::span<const std::uint8_t> b, std::size_t& len, const std::string& name) {
  len = b.size();
  const auto bad = [&] { fail(name, "corrupt JPEG (a Huffman table with more than 256 codes)"); };
  std::size_t p = jpeg_soi_end(b);
  while (p < b.size()) {  // segments before the first scan
    if (b[p] != 0xFF) {
      ++p;  // stb skips stray bytes between segments
      continue;
    }
    while (p < b.size() && b[p] == 0xFF) ++p;
    if (p >= b.size()) return;
    const std::uint8_t m = b[p++];
    if (m == 0xDA) break;     // start of scan
    if (m == 0xD9) return;    // end of image: stb reads no further
    if (m == 0xC4 && !jpeg_dht_ok(b, p)) bad();
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue;  // markers without a length
    p += (p < b.size() ? std::size_t{b[p]} << 8 : 0) | (p + 1 < b.size() ? b[p + 1] : 0);
  }
  while (p < b.size()) {  // scans: any FF (fill) marker sequence stb may meet
    if (b[p] != 0xFF) {
      ++p;
      continue;
    }
    while (p < b.size() && b[p] == 0xFF) ++p;
    if (p >= b.size()) return;
    if (b[p] == 0xC4 && !jpeg_dht_ok(b, p + 1)) bad();
    if (b[p] == 0xD9) {
      len = p + 1;
      return;
    }
  }
}

// stb_image 2.27 memcpy's into a null buffer when a PNG's first IDAT chunk is empty (undefined
// behaviour, though legal PNG): such chunks are dropped from a copy. Other damage is stb's to report.
std::span<const std::uint8_t> png_without_empty_idat(std::span<const std::uint8_t> b, std::vector<std::uint8_t>& copy) {
  static const std::uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.size() < 8 || std::memcmp(b.data(), kSig, 8) != 0) return b;
  auto be32 = [&](std::size_t i) { return std::uint32_t{b[i]} << 24 | std::uint32_t{b[i + 1]} << 16 | std::uint32_t{b[i + 2]} << 8 | b[i + 3]; };
  bool empty_first = false, seen_idat = false;
  for (std::size_t p = 8; p + 8 <= b.size() && !seen_idat; p += 12 + std::size_t{be32(p)}) {
    if (std::memcmp(b.data() + p + 4, "IDAT", 4) != 0) continue;
    seen_idat = true;
    empty_first = be32(p) == 0;
  }
  if (!empty_first) return b;
  copy.assign(b.begin(), b.begin() + 8);
  std::size_t p = 8;
  for (; p + 12 <= b.size(); p += 12 + std::size_t{be32(p)}) {
    const std::size_t len = be32(p);
    if (len > b.size() - p - 12) break;  // the rest is copied as is
    if (len != 0 || std::memcmp(b.data() + p + 4, "IDAT", 4) != 0) copy.insert(copy.end(), b.begin() + p, b.begin() + p + 12 + len);
  }
  if (p < b.size()) copy.insert(copy.end(), b.begin() + p, b.end());
  return copy;
}

Image decode_stb(std::span<const std::uint8_t> bytes, const std::string& name) {
  std::vector<std::uint8_t> copy;
  bytes = png_without_empty_idat(bytes, copy);
  if (jpeg_soi_end(bytes) != 0) {
    std::size_t len = 0;
    jpeg_guard(bytes, len, name);
    bytes = bytes.first(len);
  }
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &comp))
    fail(name, "not a readable image (" + std::to_string(bytes.size()) + " bytes; stb_image: " + stb_reason() + ")");
  if (w <= 0 || h <= 0) fail(name, "stb_image reports a " + std::to_string(w) + "x" + std::to_string(h) + " image");
  check_pixels(name, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h));
  int cw = 0, ch = 0, cc = 0;
  if (stbi_is_16_bit_from_memory(bytes.data(), len)) {
    std::unique_ptr<stbi_us, StbFree> px(stbi_load_16_from_memory(bytes.data(), len, &cw, &ch, &cc, 0));
    if (!px) fail(name, "cannot decode the " + std::to_string(w) + "x" + std::to_string(h) + " 16-bit image (stb_image: " + stb_reason() + ")");
    if (cw != w || ch != h || cc < 1 || cc > 4) fail(name, "stb_image returned an inconsistent image");
    return to_rgb(px.get(), static_cast<std::uint32_t>(cw), static_cast<std::uint32_t>(ch), cc, 1.0f / 65535.0f);
  }
  std::unique_ptr<stbi_uc, StbFree> px(stbi_load_from_memory(bytes.data(), len, &cw, &ch, &cc, 0));
  if (!px) fail(name, "cannot decode the " + std::to_string(w) + "x" + std::to_string(h) + " image (stb_image: " + stb_reason() + ")");
  if (cw != w || ch != h || cc < 1 || cc > 4) fail(name, "stb_image returned an inconsistent image");
  return to_rgb(px.get(), static_cast<std::uint32_t>(cw), static_cast<std::uint32_t>(ch), cc, 1.0f / 255.0f);
}

bool is_webp(std::span<const std::uint8_t> b) {
  return b.size() >= 12 && std::memcmp(b.data(), "RIFF", 4) == 0 && std::memcmp(b.data() + 8, "WEBP", 4) == 0;
}

Image decode_webp(std::span<const std::uint8_t> bytes, const std::string& name) {
#ifdef TESSERA_HAVE_WEBP
  int w = 0, h = 0;
  if (!WebPGetInfo(bytes.data(), bytes.size(), &w, &h))
    fail(name, "not a readable WebP image (" + std::to_string(bytes.size()) + " bytes; libwebp cannot parse its header)");
  if (w <= 0 || h <= 0) fail(name, "libwebp reports a " + std::to_string(w) + "x" + std::to_string(h) + " image");
  check_pixels(name, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h));
  int dw = 0, dh = 0;
  std::unique_ptr<std::uint8_t, void (*)(void*)> px(WebPDecodeRGB(bytes.data(), bytes.size(), &dw, &dh), WebPFree);
  if (!px) fail(name, "cannot decode the " + std::to_string(w) + "x" + std::to_string(h) + " WebP image (corrupt, truncated or animated)");
  if (dw != w || dh != h) fail(name, "libwebp returned an inconsistent image");
  return to_rgb(px.get(), static_cast<std::uint32_t>(dw), static_cast<std::uint32_t>(dh), 3, 1.0f / 255.0f);
#else
  (void)bytes;
  fail(name, "this build has no WebP decoder (built without libwebp)");
#endif
}

// --- EXIF orientation: a bounds-checked reader of one TIFF tag -------------------------------

// Reads of a TIFF block in either byte order; every read is checked against the block.
struct Tiff {
  std::span<const std::uint8_t> b;
  bool little = true;
  bool u16(std::size_t off, std::uint32_t& v) const {
    if (off > b.size() || b.size() - off < 2) return false;
    v = little ? (b[off] | b[off + 1] << 8) : (b[off] << 8 | b[off + 1]);
    return true;
  }
  bool u32(std::size_t off, std::uint32_t& v) const {
    std::uint32_t hi = 0, lo = 0;
    if (!u16(off, lo) || !u16(off + 2, hi)) return false;
    v = little ? (hi << 16 | lo) : (lo << 16 | hi);
    return true;
  }
};

// Orientation tag of IFD0 of a TIFF block ("II*\0" or "MM\0*" header); 1 when absent or invalid.
std::uint32_t tiff_orientation(std::span<const std::uint8_t> b) {
  if (b.size() < 8) return 1;
  Tiff t{b, b[0] == 'I'};
  if (!((b[0] == 'I' && b[1] == 'I') || (b[0] == 'M' && b[1] == 'M'))) return 1;
  std::uint32_t magic = 0, ifd = 0, count = 0;
  if (!t.u16(2, magic) || magic != 42 || !t.u32(4, ifd) || !t.u16(ifd, count)) return 1;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t e = std::size_t{ifd} + 2 + std::size_t{i} * 12;
    std::uint32_t tag = 0, type = 0, n = 0, v = 0;
    if (!t.u16(e, tag) || !t.u16(e + 2, type) || !t.u32(e + 4, n)) return 1;
    if (tag != 0x0112) continue;
    if (n != 1) return 1;
    if (type == 3) {  // SHORT
      if (!t.u16(e + 8, v)) return 1;
    } else if (type == 4) {  // LONG (non-standard, seen in the wild)
      if (!t.u32(e + 8, v)) return 1;
    } else {
      return 1;
    }
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

}  // namespace

std::uint32_t jpeg_exif_orientation(std::span<const std::uint8_t> jpeg) {
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return 1;
  std::size_t pos = 2;
  while (pos + 4 <= jpeg.size()) {
    if (jpeg[pos] != 0xFF) return 1;
    const std::uint8_t marker = jpeg[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // start of scan / end of image
    const std::size_t len = std::size_t{jpeg[pos + 2]} << 8 | jpeg[pos + 3];
    if (len < 2 || len > jpeg.size() - pos - 2) return 1;
    const auto seg = jpeg.subspan(pos + 4, len - 2);
    if (marker == 0xE1 && seg.size() >= 6 && std::memcmp(seg.data(), "Exif\0\0", 6) == 0)
      return tiff_orientation(seg.subspan(6));
    pos += 2 + len;
  }
  return 1;
}

Image apply_exif_orientation(const Image& img, std::uint32_t orientation) {
  if (orientation < 2 || orientation > 8) return img;
  const std::size_t w = img.width, h = img.height;
  const bool swap = orientation >= 5;
  Image out;
  out.width = static_cast<std::uint32_t>(swap ? h : w);
  out.height = static_cast<std::uint32_t>(swap ? w : h);
  out.rgb.resize(img.rgb.size());
  for (std::size_t oy = 0; oy < out.height; ++oy) {
    for (std::size_t ox = 0; ox < out.width; ++ox) {
      std::size_t sx = ox, sy = oy;
      switch (orientation) {
        case 2: sx = w - 1 - ox; break;                         // mirror left-right
        case 3: sx = w - 1 - ox; sy = h - 1 - oy; break;        // rotate 180
        case 4: sy = h - 1 - oy; break;                         // mirror top-bottom
        case 5: sx = oy; sy = ox; break;                        // transpose
        case 6: sx = oy; sy = h - 1 - ox; break;                // rotate 90 clockwise
        case 7: sx = w - 1 - oy; sy = h - 1 - ox; break;        // transverse
        case 8: sx = w - 1 - oy; sy = ox; break;                // rotate 90 counter-clockwise
      }
      const float* s = &img.rgb[(sy * w + sx) * 3];
      float* d = &out.rgb[(oy * out.width + ox) * 3];
      d[0] = s[0];
      d[1] = s[1];
      d[2] = s[2];
    }
  }
  return out;
}

Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) fail(name, "empty file (0 bytes)");
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    fail(name, std::to_string(bytes.size()) + " bytes, more than the 2 GiB an image file may have");
  if (is_webp(bytes)) return decode_webp(bytes, name);
  Image img = decode_stb(bytes, name);
  if (jpeg_soi_end(bytes) != 0) img = apply_exif_orientation(img, jpeg_exif_orientation(bytes));
  return img;
}

Image load_image(const std::filesystem::path& path) {
  const MediaFile f = MediaFile::open(path, "image");
  return decode_image(f.bytes(), f.name());
}

ImageSize image_target_size(std::uint32_t width, std::uint32_t height, std::uint32_t max_tokens) {
  if (max_tokens < kMinImageTokens || max_tokens > kMaxImageTokens)
    throw Error("[image] image token budget " + std::to_string(max_tokens) + " is outside [" +
                std::to_string(kMinImageTokens) + ", " + std::to_string(kMaxImageTokens) + "]");
  if (width == 0 || height == 0)
    throw Error("[image] cannot size a " + std::to_string(width) + "x" + std::to_string(height) + " image (a zero side)");
  const double target_px = double(max_tokens) * 9 * 256;  // max_patches * 16^2
  const double f = std::sqrt(target_px / (double(width) * double(height)));
  const double p = kMergedPatch;
  std::uint64_t gw = static_cast<std::uint64_t>(std::floor(f * width / p));   // merged patches across
  std::uint64_t gh = static_cast<std::uint64_t>(std::floor(f * height / p));  // merged patches down
  if (gh == 0) {
    gh = 1;
    gw = std::min<std::uint64_t>(width / height, max_tokens);
  } else if (gw == 0) {
    gw = 1;
    gh = std::min<std::uint64_t>(height / width, max_tokens);
  }
  gw = std::clamp<std::uint64_t>(gw, 1, max_tokens);
  gh = std::clamp<std::uint64_t>(gh, 1, max_tokens);
  // Floating-point rounding may land one patch over the budget: take it from the longer side.
  while (gw * gh > max_tokens) {
    if (gw >= gh) --gw;
    else --gh;
  }
  return {static_cast<std::uint32_t>(gw * p), static_cast<std::uint32_t>(gh * p)};
}

Image resize_image(const Image& img, std::uint32_t width, std::uint32_t height) {
  if (img.width == 0 || img.height == 0 || img.rgb.size() != std::size_t{img.width} * img.height * 3)
    throw Error("[image] cannot resize: the image is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                " with " + std::to_string(img.rgb.size()) + " floats (want width * height * 3)");
  if (width == 0 || height == 0 || std::uint64_t{width} * height > kMaxImagePixels || width > INT_MAX || height > INT_MAX)
    throw Error("[image] cannot resize to " + std::to_string(width) + "x" + std::to_string(height) +
                " (a zero side or more than " + std::to_string(kMaxImagePixels) + " pixels)");
  if (width == img.width && height == img.height) return img;
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(std::size_t{width} * height * 3);
  const int ok = stbir_resize_float_generic(img.rgb.data(), static_cast<int>(img.width), static_cast<int>(img.height), 0,
                                            out.rgb.data(), static_cast<int>(width), static_cast<int>(height), 0, 3,
                                            STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_CATMULLROM,
                                            STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok)
    throw Error("[image] resizing " + std::to_string(img.width) + "x" + std::to_string(img.height) + " to " +
                std::to_string(width) + "x" + std::to_string(height) + " failed (out of memory)");
  for (float& v : out.rgb) v = std::clamp(v, 0.0f, 1.0f);  // bicubic overshoots at edges
  return out;
}

Image prepare_image(const Image& img, std::uint32_t max_tokens) {
  const ImageSize s = image_target_size(img.width, img.height, max_tokens);
  return resize_image(img, s.width, s.height);
}

bool webp_decoding_available() {
#ifdef TESSERA_HAVE_WEBP
  return true;
#else
  return false;
#endif
}

}  // namespace tessera::media
