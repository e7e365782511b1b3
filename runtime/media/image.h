// Image decoding (stb_image; WebP through libwebp when built with it) and the Gemma 4 image
// pre-processing of spec §4.1: RGB f32 in [0, 1], resized (bicubic, antialiased) so that the image
// splits into at most max_tokens 48x48 merged patches. CPU only.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tessera::media {

inline constexpr std::uint32_t kMergedPatch = 48;  // pixels per side of one soft token's patch
inline constexpr std::uint32_t kMinImageTokens = 70, kMaxImageTokens = 1120, kDefaultImageTokens = 280;
inline constexpr std::uint64_t kMaxImagePixels = 64'000'000;  // decode refuses larger images

// RGB, f32 in [0, 1], HWC: rgb[(y * width + x) * 3 + c].
struct Image {
  std::uint32_t width = 0, height = 0;
  std::vector<float> rgb;  // [height, width, 3] f32
};

// Decodes PNG (8 and 16 bit), JPEG (EXIF orientation applied), BMP, GIF (first frame), TGA
// (stb_image) and WebP (libwebp). Gray expands to RGB, alpha is dropped. `name` only
// labels error messages. Throws tessera::Error on anything it cannot decode.
Image decode_image(std::span<const std::uint8_t> bytes, const std::string& name);
// Reads the file (memory-mapped) and decodes it.
Image load_image(const std::filesystem::path& path);

struct ImageSize {
  std::uint32_t width = 0, height = 0;
  std::uint32_t tokens() const { return (width / kMergedPatch) * (height / kMergedPatch); }
};

// The Hugging Face Gemma4 image processor's size (spec §4.1): keeps the aspect ratio, fills the
// budget (also upscales), each side a multiple of 48, tokens() <= max_tokens. Throws on max_tokens
// outside [kMinImageTokens, kMaxImageTokens] or a zero side.
ImageSize image_target_size(std::uint32_t width, std::uint32_t height, std::uint32_t max_tokens);
// Bicubic (Catmull-Rom, Keys a = -0.5, like PIL's BICUBIC), antialiased when shrinking, edges
// clamped; the result is clamped to [0, 1].
Image resize_image(const Image& img, std::uint32_t width, std::uint32_t height);
// resize_image to image_target_size(img.width, img.height, max_tokens).
Image prepare_image(const Image& img, std::uint32_t max_tokens);

// False when built without libwebp (decode_image then refuses WebP with a clear error).
bool webp_decoding_available();

// EXIF orientation (tag 0x0112, 1..8) of a JPEG's APP1 "Exif" segment; 1 when there is none or
// it is malformed. Bounds-checked: any bytes are safe.
std::uint32_t jpeg_exif_orientation(std::span<const std::uint8_t> jpeg);
// Turns an image stored with EXIF orientation `orientation` upright (2..8: mirrors and rotations;
// 1 and anything else: unchanged), like PIL's ImageOps.exif_transpose.
Image apply_exif_orientation(const Image& img, std::uint32_t orientation);

}  // namespace tessera::media
