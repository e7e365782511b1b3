// Driver quirks: the known bugs of the drivers our users run that change which kernel variant is
// safe, each with the devices it hits, what the engine does about it, and the public report.
// detect_quirks() is a pure function of DeviceCaps (driver id, vendor, features), so it is tested
// on hand-made snapshots; plan_kernels() turns the quirks into variant choices.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/caps.h"

namespace tessera {

struct QuirkInfo {
  Quirk quirk;
  std::string_view name;        // "int_dot_unreliable" (as in `tessera devices --json`)
  std::string_view devices;     // which GPUs and drivers
  std::string_view workaround;  // what the planner does
  std::string_view sources;     // public reports
};

// One entry per Quirk, in enum order.
std::span<const QuirkInfo> quirk_infos();
const QuirkInfo& quirk_info(Quirk q);
std::optional<Quirk> find_quirk(std::string_view name);

// Quirks of the driver described by `c` (its driver_id, vendor_id and features).
QuirkSet detect_quirks(const DeviceCaps& c);

// "a, b" (empty when none).
std::string quirk_names(QuirkSet s);

}  // namespace tessera
