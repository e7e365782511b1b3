#include "tools/cli/media_args.h"

#include <algorithm>
#include <cstdio>

#include "engine/error.h"
#include "engine/log.h"
#include "engine/platform/console.h"
#include "runtime/media/image.h"

namespace tessera::cli {

void add_media_options(CLI::App* cmd, MediaArgs& a, bool with_inputs) {
  cmd->add_option("--mmproj", a.mmproj,
                  "Gemma 4 mmproj GGUF (vision + audio projector); with the demo model: the factory's demo mmproj");
  if (with_inputs) {
    cmd->add_option("--image", a.images, "image file (PNG, JPEG, BMP, GIF, WebP), at the prompt's next <|image|>")
        ->take_all();
    cmd->add_option("--audio", a.audio, "audio file (WAV, FLAC, OGG, ...), at the prompt's next <|audio|>")->take_all();
    cmd->add_option("--video", a.videos, "folder of video frames (sorted by name), at the prompt's next <|video|>")
        ->take_all();
  }
  cmd->add_option("--image-tokens", a.prompt.image_tokens, "soft tokens per image at most (70..1120)")
      ->check(CLI::Range(media::kMinImageTokens, media::kMaxImageTokens))
      ->capture_default_str();
  cmd->add_option("--audio-max-seconds", a.prompt.max_audio_seconds, "longer audio is cut (Gemma 4: 30 s clips)")
      ->check(CLI::Range(0.04, 3600.0))
      ->capture_default_str();
  cmd->add_option("--video-fps", a.prompt.video.sample_fps, "video frames sampled per second")
      ->check(CLI::Range(0.001, 240.0))
      ->capture_default_str();
  cmd->add_option("--video-source-fps", a.prompt.video.source_fps, "frame rate of a video folder's images")
      ->check(CLI::Range(0.001, 1000.0))
      ->capture_default_str();
  cmd->add_option("--video-frames", a.prompt.video.max_frames, "video frames at most (spread over the video)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  cmd->add_option("--video-frame-tokens", a.prompt.video_frame_tokens, "soft tokens per video frame at most")
      ->check(CLI::Range(media::kMinImageTokens, media::kMaxImageTokens))
      ->capture_default_str();
}

std::unique_ptr<MmProjector> load_mmproj(const LoadedModel& lm, const MediaArgs& a, bool quiet) {
  std::filesystem::path path;
  if (!a.mmproj.empty() && a.mmproj != "demo") {
    path = path_from_utf8(a.mmproj);
  } else if (lm.demo && (!a.mmproj.empty() || !a.images.empty() || !a.audio.empty() || !a.videos.empty())) {
    path = demo_mmproj_path();
    if (!quiet)
      std::fprintf(stderr, "tessera: using the factory demo mmproj %s (RANDOM weights, like the demo model)\n",
                   path_to_utf8(path).c_str());
  } else if (a.mmproj == "demo") {
    throw Error("[cli] --mmproj demo goes with the demo model (no -m)");
  } else {
    return nullptr;
  }
  std::unique_ptr<MmProjector> p = MmProjector::load(*lm.ctx, path, lm.model->hparams().n_embd);
  if (!quiet) {
    const MmProjectorInfo& in = p->info();
    std::fprintf(stderr, "loaded %s: %s%s%s, %s\n", path_to_utf8(path.filename()).c_str(), in.vision ? "vision" : "",
                 in.vision && in.audio ? " + " : "", in.audio ? "audio" : "", format_bytes_short(in.bytes).c_str());
  }
  return p;
}

std::uint32_t media_ubatch(const MediaArgs& a, std::uint32_t ubatch, bool has_projector) {
  if (!has_projector) return ubatch;
  return std::max({ubatch, a.prompt.image_tokens, a.prompt.video_frame_tokens});
}

std::vector<MediaInput> media_inputs(const MediaArgs& a) {
  std::vector<MediaInput> m;
  for (const std::string& p : a.images) m.push_back({MediaKind::image, path_from_utf8(p)});
  for (const std::string& p : a.audio) m.push_back({MediaKind::audio, path_from_utf8(p)});
  for (const std::string& p : a.videos) m.push_back({MediaKind::video, path_from_utf8(p)});
  return m;
}

ChatMessage user_message(const std::string& text, std::span<const MediaInput> media) {
  ChatMessage msg{"user", text};
  const bool placed = text.find("<|image|>") != std::string::npos || text.find("<|audio|>") != std::string::npos ||
                      text.find("<|video|>") != std::string::npos;
  if (placed) return msg;
  std::string videos;
  for (const MediaInput& m : media) {
    msg.n_images += m.kind == MediaKind::image;
    msg.n_audio += m.kind == MediaKind::audio;
    if (m.kind == MediaKind::video) videos += "<|video|>";
  }
  if (!videos.empty()) msg.content = videos + "\n\n" + text;
  return msg;
}

void report_media(const MmPrompt& p) {
  for (const MediaReport& r : p.media) {
    std::fprintf(stderr, "%s %s: %s, %u tokens, %.0f ms\n", std::string(media_kind_name(r.kind)).c_str(), r.path.c_str(),
                 r.detail.c_str(), r.tokens, 1000 * r.seconds);
    if (!r.note.empty()) std::fprintf(stderr, "note: %s\n", r.note.c_str());
  }
}

}  // namespace tessera::cli
