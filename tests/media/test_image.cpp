// Image decoding (runtime/media/image.h): pixel values of every format against what was written,
// gray/alpha conversion, 16-bit PNG, GIF, WebP, EXIF orientations, and bad input of every kind.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/tools.h"
#include "engine/error.h"
#include "engine/platform/console.h"
#include "media/media_files.h"
#include "runtime/media/image.h"

namespace tessera::media {
namespace {

using test::Bytes;

// Deterministic 8-bit test pattern: w*h*comp bytes.
std::vector<std::uint8_t> pattern(int w, int h, int comp, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * comp));
  for (auto& v : px) v = static_cast<std::uint8_t>(rng() & 0xFF);
  return px;
}

float px_at(const Image& img, std::uint32_t x, std::uint32_t y, int c) { return img.rgb[(y * img.width + x) * 3 + c]; }

// The decoded image equals the RGB(A) bytes written (alpha ignored), exactly.
void expect_rgb_exact(const Image& img, int w, int h, int comp, const std::vector<std::uint8_t>& px) {
  ASSERT_EQ(img.width, static_cast<std::uint32_t>(w));
  ASSERT_EQ(img.height, static_cast<std::uint32_t>(h));
  ASSERT_EQ(img.rgb.size(), static_cast<std::size_t>(w * h * 3));
  for (int i = 0; i < w * h; ++i)
    for (int c = 0; c < 3; ++c) {
      const int src = comp >= 3 ? px[i * comp + c] : px[i * comp];
      ASSERT_FLOAT_EQ(img.rgb[i * 3 + c], src / 255.0f) << "pixel " << i << " channel " << c;
    }
}

std::string error_of(std::span<const std::uint8_t> bytes, const std::string& name) {
  try {
    decode_image(bytes, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ImageDecode, PngRgbAndRgbaExact) {
  for (int comp : {3, 4}) {
    const auto px = pattern(7, 5, comp);
    expect_rgb_exact(decode_image(test::encode_png(7, 5, comp, px), "a.png"), 7, 5, comp, px);
  }
}

TEST(ImageDecode, GrayAndGrayAlphaExpandToRgb) {
  for (int comp : {1, 2}) {
    const auto px = pattern(6, 4, comp, 7);
    const Image img = decode_image(test::encode_png(6, 4, comp, px), "gray.png");
    expect_rgb_exact(img, 6, 4, comp, px);
  }
}

TEST(ImageDecode, BmpExact) {
  for (int comp : {3, 4}) {
    const auto px = pattern(9, 3, comp, 3);
    expect_rgb_exact(decode_image(test::encode_bmp(9, 3, comp, px), "a.bmp"), 9, 3, comp, px);
  }
}

TEST(ImageDecode, JpegCloseToWhatWasWritten) {
  const int w = 32, h = 24;
  std::vector<std::uint8_t> px(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      px[(y * w + x) * 3 + 0] = static_cast<std::uint8_t>(x * 8);
      px[(y * w + x) * 3 + 1] = static_cast<std::uint8_t>(y * 10);
      px[(y * w + x) * 3 + 2] = 128;
    }
  const Image img = decode_image(test::encode_jpg(w, h, 3, px, 95), "a.jpg");
  ASSERT_EQ(img.width, 32u);
  ASSERT_EQ(img.height, 24u);
  float worst = 0;
  for (int i = 0; i < w * h * 3; ++i) worst = std::max(worst, std::abs(img.rgb[i] - px[i] / 255.0f));
  EXPECT_LT(worst, 0.06f);
}

TEST(ImageDecode, Png16BitKeepsSixteenBits) {
  // 0x1234 would read as 0x12 / 255 if decoded at 8 bits.
  const std::vector<std::uint16_t> rgb = {0x1234, 0xFFFF, 0x0000, 0x8001, 0x00FF, 0xABCD};
  const Image img = decode_image(test::encode_png16(2, 1, 2, rgb), "deep.png");
  ASSERT_EQ(img.width, 2u);
  ASSERT_EQ(img.height, 1u);
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(img.rgb[i], rgb[i] / 65535.0f) << i;

  const std::vector<std::uint16_t> gray = {0x0102, 0xFEDC, 0x7FFF};
  const Image g = decode_image(test::encode_png16(1, 3, 0, gray), "gray16.png");
  ASSERT_EQ(g.width, 1u);
  ASSERT_EQ(g.height, 3u);
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(g.rgb[i * 3 + c], gray[i] / 65535.0f) << i;
}

TEST(ImageDecode, GifFirstFrame) {
  const std::uint8_t pal[4][3] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {10, 20, 250}};
  const std::vector<std::uint8_t> first = {1, 2, 3, 0, 3, 1}, second = {0, 0, 0, 0, 0, 0};
  const Image img = decode_image(test::encode_gif(3, 2, pal, {first, second}), "anim.gif");
  ASSERT_EQ(img.width, 3u);
  ASSERT_EQ(img.height, 2u);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(img.rgb[i * 3 + c], pal[first[i]][c] / 255.0f) << i << " " << c;
}

// Lossless WebP made with libwebp's WebPEncodeLosslessRGB: 3x2, rows (red, green, blue) and
// (white, black, (128, 64, 32)).
const std::uint8_t kWebpRgb[] = {
    0x52, 0x49, 0x46, 0x46, 0x3a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c,
    0x2d, 0x00, 0x00, 0x00, 0x2f, 0x02, 0x40, 0x00, 0x00, 0x2f, 0x20, 0x10, 0x20, 0x48, 0xf3, 0x1f,
    0x65, 0x43, 0x40, 0x50, 0x74, 0xdd, 0x72, 0x02, 0x01, 0x82, 0x14, 0xff, 0x91, 0xe6, 0x3f, 0x40,
    0x6c, 0x72, 0x6c, 0x15, 0x28, 0x48, 0xdb, 0x80, 0xc5, 0xdd, 0x53, 0xb2, 0x88, 0xfe, 0xc7, 0xd5,
    0x01, 0x00};
// WebPEncodeLosslessRGBA, 2x2 RGBA: (255,0,0,0) (0,255,0,128) / (0,0,255,255) (10,20,30,40).
const std::uint8_t kWebpRgba[] = {
    0x52, 0x49, 0x46, 0x46, 0x38, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50, 0x38, 0x4c,
    0x2b, 0x00, 0x00, 0x00, 0x2f, 0x01, 0x40, 0x00, 0x10, 0x1f, 0x20, 0x10, 0x48, 0x92, 0xd8, 0x1f,
    0x75, 0x8d, 0x51, 0x10, 0x08, 0x10, 0x8c, 0xf8, 0xbf, 0x24, 0x10, 0x20, 0xac, 0xbb, 0x71, 0x29,
    0x00, 0x7e, 0xda, 0x82, 0x9a, 0xb6, 0x0d, 0x58, 0xfc, 0x26, 0x1d, 0x11, 0xfd, 0x0f, 0x0e, 0x00};

TEST(ImageDecode, WebpLossless) {
  if (!webp_decoding_available()) {
    EXPECT_NE(error_of(kWebpRgb, "a.webp").find("without libwebp"), std::string::npos);
    GTEST_SKIP() << "built without libwebp";
  }
  const std::vector<std::uint8_t> rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 64, 32};
  expect_rgb_exact(decode_image(kWebpRgb, "a.webp"), 3, 2, 3, rgb);
  // Alpha is dropped; the fully transparent pixel's colour is the encoder's to choose.
  const Image img = decode_image(kWebpRgba, "alpha.webp");
  ASSERT_EQ(img.width, 2u);
  ASSERT_EQ(img.height, 2u);
  const float want[3][3] = {{0, 1, 0}, {0, 0, 1}, {10 / 255.0f, 20 / 255.0f, 30 / 255.0f}};
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(img.rgb[(i + 1) * 3 + c], want[i][c]) << i << " " << c;
  // Truncated WebP: an error, no crash.
  for (std::size_t n = 0; n < sizeof kWebpRgb; ++n)
    EXPECT_THROW(decode_image(std::span(kWebpRgb, n), "cut.webp"), Error) << n;
}

// --- EXIF orientation --------------------------------------------------------------------------

// An APP1 "Exif" segment whose IFD0 has a Make tag and then the orientation tag.
Bytes exif_app1(std::uint16_t orientation, bool little) {
  Bytes t;
  auto u16 = [&](std::uint32_t v) {
    if (little) t.insert(t.end(), {std::uint8_t(v), std::uint8_t(v >> 8)});
    else t.insert(t.end(), {std::uint8_t(v >> 8), std::uint8_t(v)});
  };
  auto u32 = [&](std::uint32_t v) {
    if (little) { u16(v & 0xFFFF); u16(v >> 16); }
    else { u16(v >> 16); u16(v & 0xFFFF); }
  };
  t.insert(t.end(), little ? std::initializer_list<std::uint8_t>{'I', 'I'} : std::initializer_list<std::uint8_t>{'M', 'M'});
  u16(42);
  u32(8);     // IFD0 right after the header
  u16(2);     // two entries
  u16(0x010F); u16(2); u32(4); t.insert(t.end(), {'a', 'b', 'c', 0});  // Make = "abc"
  u16(0x0112); u16(3); u32(1); u16(orientation); u16(0);              // Orientation
  u32(0);     // no next IFD
  Bytes seg = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  seg.insert(seg.end(), t.begin(), t.end());
  const std::size_t len = seg.size() - 2;
  seg[2] = static_cast<std::uint8_t>(len >> 8);
  seg[3] = static_cast<std::uint8_t>(len);
  return seg;
}

Bytes with_app1(const Bytes& jpeg, const Bytes& app1) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);  // SOI
  out.insert(out.end(), app1.begin(), app1.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

// 32x16, gray, with a red 8x8 block at the top-left corner and a blue one right of it.
Bytes marked_jpeg() {
  const int w = 32, h = 16;
  std::vector<std::uint8_t> px(w * h * 3, 128);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 16; ++x) {
      std::uint8_t* p = &px[(y * w + x) * 3];
      if (x < 8) { p[0] = 255; p[1] = 0; p[2] = 0; }
      else { p[0] = 0; p[1] = 0; p[2] = 255; }
    }
  return test::encode_jpg(w, h, 3, px, 100);
}

bool is_red(const Image& img, std::uint32_t x, std::uint32_t y) {
  return px_at(img, x, y, 0) > 0.8f && px_at(img, x, y, 1) < 0.2f && px_at(img, x, y, 2) < 0.2f;
}
bool is_blue(const Image& img, std::uint32_t x, std::uint32_t y) {
  return px_at(img, x, y, 0) < 0.2f && px_at(img, x, y, 1) < 0.2f && px_at(img, x, y, 2) > 0.8f;
}

TEST(ImageDecode, ExifOrientationsOneToEight) {
  // Where the stored pixels (3, 3) (red) and (11, 3) (blue) of the 32x16 image end up.
  struct Case { std::uint32_t w, h, rx, ry, bx, by; };
  const Case want[9] = {{},
                        {32, 16, 3, 3, 11, 3},    // 1 as stored
                        {32, 16, 28, 3, 20, 3},   // 2 mirrored left-right
                        {32, 16, 28, 12, 20, 12}, // 3 rotated 180
                        {32, 16, 3, 12, 11, 12},  // 4 mirrored top-bottom
                        {16, 32, 3, 3, 3, 11},    // 5 transposed
                        {16, 32, 12, 3, 12, 11},  // 6 rotated 90 clockwise
                        {16, 32, 12, 28, 12, 20}, // 7 transversed
                        {16, 32, 3, 28, 3, 20}};  // 8 rotated 90 counter-clockwise
  const Bytes jpeg = marked_jpeg();
  for (bool little : {true, false}) {
    for (std::uint16_t o = 1; o <= 8; ++o) {
      const Bytes file = with_app1(jpeg, exif_app1(o, little));
      EXPECT_EQ(jpeg_exif_orientation(file), o);
      const Image img = decode_image(file, "exif.jpg");
      const Case& c = want[o];
      ASSERT_EQ(img.width, c.w) << "orientation " << o;
      ASSERT_EQ(img.height, c.h) << "orientation " << o;
      EXPECT_TRUE(is_red(img, c.rx, c.ry)) << "orientation " << o << (little ? " II" : " MM");
      EXPECT_TRUE(is_blue(img, c.bx, c.by)) << "orientation " << o << (little ? " II" : " MM");
    }
  }
  // No EXIF, and out-of-range values: as stored.
  EXPECT_EQ(jpeg_exif_orientation(jpeg), 1u);
  EXPECT_EQ(jpeg_exif_orientation(with_app1(jpeg, exif_app1(9, true))), 1u);
  EXPECT_EQ(jpeg_exif_orientation(with_app1(jpeg, exif_app1(0, false))), 1u);
}

TEST(ImageDecode, ExifParserSurvivesHostileBytes) {
  const Bytes jpeg = marked_jpeg();
  const Bytes good = with_app1(jpeg, exif_app1(6, false));
  // Every truncation, and every single-byte corruption of the APP1 segment.
  for (std::size_t n = 0; n <= 64 && n <= good.size(); ++n) {
    const std::uint32_t o = jpeg_exif_orientation(std::span(good).first(n));
    EXPECT_GE(o, 1u);
    EXPECT_LE(o, 8u);
  }
  for (std::size_t i = 2; i < 2 + exif_app1(6, false).size(); ++i) {
    for (std::uint8_t v : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
      Bytes bad = good;
      bad[i] = v;
      const std::uint32_t o = jpeg_exif_orientation(bad);
      EXPECT_GE(o, 1u);
      EXPECT_LE(o, 8u);
    }
  }
  std::mt19937 rng(42);
  for (int k = 0; k < 2000; ++k) {
    Bytes r(2 + rng() % 80);
    for (auto& b : r) b = static_cast<std::uint8_t>(rng());
    r[0] = 0xFF;
    r[1] = 0xD8;
    const std::uint8_t app1[10] = {0xFF, 0xE1, 0x00, 0x40, 'E', 'x', 'i', 'f', 0, 0};
    if (k % 2) std::memcpy(r.data() + 2, app1, std::min<std::size_t>(10, r.size() - 2));
    const std::uint32_t o = jpeg_exif_orientation(r);
    EXPECT_GE(o, 1u);
    EXPECT_LE(o, 8u);
  }
}

TEST(ImageDecode, ApplyOrientationMovesCorners) {
  Image img{2, 1, {1, 0, 0, 0, 0, 1}};  // red, blue
  const Image r = apply_exif_orientation(img, 6);
  ASSERT_EQ(r.width, 1u);
  ASSERT_EQ(r.height, 2u);
  EXPECT_EQ(r.rgb, (std::vector<float>{1, 0, 0, 0, 0, 1}));
  const Image m = apply_exif_orientation(img, 2);
  EXPECT_EQ(m.rgb, (std::vector<float>{0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(apply_exif_orientation(img, 0).rgb, img.rgb);
  EXPECT_EQ(apply_exif_orientation(img, 9).rgb, img.rgb);
}

// --- Bad input -----------------------------------------------------------------------------------

TEST(ImageDecode, EmptyAndUnknownDataAreClearErrors) {
  const std::string empty = error_of({}, "empty.png");
  EXPECT_NE(empty.find("[image] empty.png"), std::string::npos) << empty;
  EXPECT_NE(empty.find("empty"), std::string::npos) << empty;
  const Bytes junk = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!'};
  const std::string e = error_of(junk, "notes.txt");
  EXPECT_NE(e.find("[image] notes.txt"), std::string::npos) << e;
  EXPECT_NE(e.find("stb_image"), std::string::npos) << e;
}

TEST(ImageDecode, TruncatedFilesNeverCrash) {
  const auto px = pattern(16, 16, 3, 9);
  const std::uint8_t pal[4][3] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  const std::vector<Bytes> files = {test::encode_png(16, 16, 3, px), test::encode_bmp(16, 16, 3, px),
                                    test::encode_jpg(16, 16, 3, px), test::encode_gif(3, 2, pal, {{1, 2, 3, 0, 1, 2}}),
                                    test::encode_png16(2, 2, 2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})};
  for (const Bytes& f : files) {
    for (std::size_t n = 0; n < f.size(); ++n) {
      try {
        const Image img = decode_image(std::span(f).first(n), "cut");
        EXPECT_EQ(img.rgb.size(), std::size_t{img.width} * img.height * 3);  // stb pads some formats
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("[image] cut"), std::string::npos) << e.what();
      }
    }
  }
  // A PNG cut in its pixel data is an error that says why.
  const Bytes png = test::encode_png(16, 16, 3, px);
  const std::string e = error_of(std::span(png).first(png.size() / 2), "half.png");
  EXPECT_NE(e.find("16x16"), std::string::npos) << e;
  EXPECT_NE(e.find("stb_image"), std::string::npos) << e;
}

TEST(ImageDecode, CorruptBytesNeverCrash) {
  const auto px = pattern(16, 16, 3, 11);
  std::mt19937 rng(5);
  for (const Bytes& f : {test::encode_png(16, 16, 3, px), test::encode_jpg(16, 16, 3, px), test::encode_bmp(16, 16, 3, px)}) {
    for (int k = 0; k < 150; ++k) {
      Bytes bad = f;
      for (int j = 0; j < 4; ++j) bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
      try {
        const Image img = decode_image(bad, "corrupt");
        EXPECT_LE(std::uint64_t{img.width} * img.height, kMaxImagePixels);
        EXPECT_EQ(img.rgb.size(), std::size_t{img.width} * img.height * 3);
      } catch (const Error&) {
      }
    }
  }
}

// stb_image 2.27 overflows its Huffman arrays on a DHT table of more than 256 codes: such files are
// refused before stb reads them, wherever the table is (run under ASan/UBSan to see the overflow).
TEST(ImageDecode, OversizedJpegHuffmanTablesAreRefused) {
  const auto px = pattern(16, 16, 3, 13);
  const Bytes jpeg = test::encode_jpg(16, 16, 3, px);
  std::size_t dht = 0;
  for (std::size_t i = 2; i + 1 < jpeg.size() && !dht; ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC4) dht = i;
  ASSERT_GT(dht, 0u);
  Bytes before = jpeg;
  for (int k = 0; k < 16; ++k) before[dht + 5 + k] = 0xFF;  // the first table's 16 code counts
  const std::string e = error_of(before, "huff.jpg");
  EXPECT_NE(e.find("[image] huff.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("Huffman"), std::string::npos) << e;

  // After the scan, just before EOI (and with fill bytes in front of the marker).
  Bytes after(jpeg.begin(), jpeg.end() - 2);
  after.insert(after.end(), {0xFF, 0xFF, 0xC4, 0x00, 0x13, 0x10});
  after.insert(after.end(), 16, 0xFF);
  after.insert(after.end(), {0xFF, 0xD9});
  EXPECT_NE(error_of(after, "late.jpg").find("Huffman"), std::string::npos);

  // Fill bytes before SOI still make a JPEG for stb.
  Bytes fill = {0xFF};
  fill.insert(fill.end(), before.begin(), before.end());
  EXPECT_NE(error_of(fill, "fill.jpg").find("Huffman"), std::string::npos);

  // Data after EOI is not read, whatever it holds.
  Bytes trailing = jpeg;
  trailing.insert(trailing.end(), {0xFF, 0xC4, 0x00, 0x13, 0x10});
  trailing.insert(trailing.end(), 16, 0xFF);
  const Image img = decode_image(trailing, "motion.jpg");
  EXPECT_EQ(img.width, 16u);
}

// Legal but rare: an empty IDAT chunk first (stb_image 2.27 would memcpy into a null buffer).
TEST(ImageDecode, PngWithAnEmptyFirstIdat) {
  const auto px = pattern(6, 5, 3, 17);
  const Bytes png = test::encode_png(6, 5, 3, px);
  std::size_t idat = 0;
  for (std::size_t i = 8; i + 8 <= png.size() && !idat; ++i)
    if (std::memcmp(png.data() + i + 4, "IDAT", 4) == 0) idat = i;
  ASSERT_GT(idat, 0u);
  Bytes empty;
  test::png_chunk(empty, "IDAT", {});
  Bytes file(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(idat));
  file.insert(file.end(), empty.begin(), empty.end());
  file.insert(file.end(), png.begin() + static_cast<std::ptrdiff_t>(idat), png.end());
  expect_rgb_exact(decode_image(file, "empty-idat.png"), 6, 5, 3, px);
  // Only empty IDAT chunks: an error, no crash.
  Bytes none(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(idat));
  none.insert(none.end(), empty.begin(), empty.end());
  test::png_chunk(none, "IEND", {});
  EXPECT_THROW(decode_image(none, "no-data.png"), Error);
}

void put_be32_at(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void put_le32_at(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

TEST(ImageDecode, HundredMegapixelHeaderRefusedBeforeDecoding) {
  const auto px = pattern(4, 4, 3);
  Bytes png = test::encode_png(4, 4, 3, px);
  put_be32_at(png, 16, 10000);  // IHDR width
  put_be32_at(png, 20, 10000);  // IHDR height
  const std::string e = error_of(png, "huge.png");
  EXPECT_NE(e.find("10000x10000"), std::string::npos) << e;
  EXPECT_NE(e.find("100000000"), std::string::npos) << e;
  EXPECT_NE(e.find("64000000"), std::string::npos) << e;

  Bytes bmp = test::encode_bmp(4, 4, 3, px);
  put_le32_at(bmp, 18, 12000);  // BITMAPINFOHEADER width
  put_le32_at(bmp, 22, 9000);   // height
  const std::string b = error_of(bmp, "huge.bmp");
  EXPECT_NE(b.find("12000x9000"), std::string::npos) << b;
  EXPECT_NE(b.find("64000000"), std::string::npos) << b;
}

TEST(ImageLoad, ReadsFilesWithUtf8NamesAndNamesMissingOnes) {
  test::TempDir dir;
  const auto px = pattern(5, 4, 3, 21);
  const std::filesystem::path p = dir.path() / path_from_utf8("bild-\xC3\xBC\xE2\x82\xAC.png");
  test::write_file(p, test::encode_png(5, 4, 3, px));
  expect_rgb_exact(load_image(p), 5, 4, 3, px);

  try {
    load_image(dir / "missing.png");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[image]"), std::string::npos) << e.what();
  }
  test::write_file(dir / "zero.png", {});
  try {
    load_image(dir / "zero.png");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zero.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_image(dir.path()), Error);  // a directory
}

}  // namespace
}  // namespace tessera::media
