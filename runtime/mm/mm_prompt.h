// Prompts with images, audio and video (docs/gemma4-spec.md §4.5, §5, §6): each placeholder token
// of a tokenized prompt (<|image|>, <|audio|>, <|video|>, in order) takes the next media item of its
// kind, which is decoded, preprocessed, projected on the GPU and expanded in place:
//   image: <|image> + N x <|image|> + <image|>          N soft tokens, one bidirectional block
//   audio: <|audio> + N x <|audio|> + <audio|>          causal
//   video: per sampled frame "mm:ss <|image>" + N x <|video|> + "<image|>", frames joined by " ",
//          each frame its own bidirectional block
// The soft tokens' embeddings are the projected rows (injected unscaled by the session).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/media/video.h"
#include "runtime/mm/mmproj.h"
#include "runtime/model/gemma4_model.h"
#include "runtime/tokenizer/tokenizer.h"

namespace tessera {

enum class MediaKind { image, audio, video };
std::string_view media_kind_name(MediaKind k);  // "image", "audio", "video"

struct MediaInput {
  MediaKind kind = MediaKind::image;
  std::filesystem::path path;  // an image or audio file; a video is a folder of frames
};

struct MmPromptOptions {
  std::uint32_t image_tokens = 280;       // soft-token budget of an image (70..1120)
  double max_audio_seconds = 30;          // longer audio is cut (with a note)
  media::VideoOptions video;              // frame sampling of a video folder
  std::uint32_t video_frame_tokens = 70;  // soft-token budget of one video frame (70..1120)
};

// The special tokens of the tokenizer, found by their text (the 12B's ids 255999, 256000,
// 258880..258884; a factory vocabulary may place them elsewhere). Throws when one is missing.
struct MmTokens {
  std::uint32_t boi = 0, image = 0, eoi = 0, boa = 0, audio = 0, eoa = 0, video = 0;
  static MmTokens from(const Tokenizer& tok);
};

// One media item as it went into the prompt (for the CLI's report and the viewer).
struct MediaReport {
  MediaKind kind = MediaKind::image;
  std::string path;
  std::string detail;         // "1024x768 -> 912x672" / "12.4 s, 44100 Hz, 2 ch" / "31 frames"
  std::uint32_t tokens = 0;   // soft tokens
  double seconds = 0;         // decode + preprocess + projection wall time
  std::string note;           // non-empty when something was cut
};

struct MmPrompt {
  std::vector<std::uint32_t> ids;
  std::vector<TokenBlock> blocks;
  std::vector<InjectedRows> embeds;  // into `rows`
  std::vector<std::unique_ptr<MmRows>> rows;
  std::vector<MediaReport> media;
  std::uint32_t largest_block() const;  // tokens of the largest block (the ubatch must hold it)
  DecodeExtras extras() const { return {blocks, embeds}; }
};

// Counts of the placeholders in a tokenized prompt.
struct PlaceholderCounts {
  std::size_t image = 0, audio = 0, video = 0;
};
PlaceholderCounts count_placeholders(std::span<const std::uint32_t> ids, const MmTokens& t);

// Expands `ids` as above. The number of placeholders of each kind must equal the media of that
// kind. Errors (tessera::Error) name the file: unreadable or corrupt media, no projector for a
// kind, a placeholder without media or media without a placeholder.
MmPrompt expand_prompt(std::span<const std::uint32_t> ids, std::span<const MediaInput> media, MmProjector* proj,
                       const Tokenizer& tok, const MmPromptOptions& opts);

}  // namespace tessera
