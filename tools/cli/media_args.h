// The multimodal flags run and chat share (--mmproj, --image, --audio, --video and their budgets),
// loading the projector next to the model, and building a prompt's media list.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "runtime/chat/chat_template.h"
#include "runtime/mm/mm_prompt.h"
#include "tools/cli/model_setup.h"

namespace tessera::cli {

struct MediaArgs {
  std::string mmproj;                // --mmproj
  std::vector<std::string> images;   // --image (in order of the prompt's <|image|> placeholders)
  std::vector<std::string> audio;    // --audio
  std::vector<std::string> videos;   // --video (folders of frames)
  MmPromptOptions prompt;            // --image-tokens, --audio-max-seconds, --video-*
};

void add_media_options(CLI::App* cmd, MediaArgs& a, bool with_inputs);

// The projector of --mmproj for the loaded model (nullptr without --mmproj); the demo model gets
// the factory's demo mmproj when --mmproj is "demo".
std::unique_ptr<MmProjector> load_mmproj(const LoadedModel& lm, const MediaArgs& a, bool quiet);

// The ubatch a session needs so that every image block fits one forward (spec §3): at least the
// image and video-frame budgets.
std::uint32_t media_ubatch(const MediaArgs& a, std::uint32_t ubatch, bool has_projector);

// The media of the flags, in order: images, audio, videos.
std::vector<MediaInput> media_inputs(const MediaArgs& a);

// A user message for `text` with `media`: when the text names no placeholders (<|image|>,
// <|audio|>, <|video|>) they are added before it, as the chat template places images and audio.
ChatMessage user_message(const std::string& text, std::span<const MediaInput> media);

// One line per media item on stderr (size, tokens, time) and any note (audio cut).
void report_media(const MmPrompt& p);

}  // namespace tessera::cli
