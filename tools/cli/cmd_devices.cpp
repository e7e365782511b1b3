// `tessera devices [--json]`: every Vulkan device with its identity, driver and capabilities
// (subgroups, fp16/int8, storage, int dot, coopmat, limits, heaps, timestamps), the one
// --device / TESSERA_DEVICE would select, and the --profile / TESSERA_DEVICE_PROFILE masking
// applied to it. No Vulkan loader or device: a message on stderr and exit code 1.
#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/caps_query.h"
#include "engine/device_select.h"
#include "engine/instance.h"
#include "engine/log.h"
#include "engine/options.h"
#include "engine/profiles.h"
#include "engine/quirks.h"
#include "tools/cli/commands.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

struct DevicesOptions {
  bool json = false;
};

std::string hex(std::uint32_t v, int width = 4) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", width, v);
  return buf;
}

std::string yes(bool b) { return b ? "yes" : "no"; }

std::string shape_name(const CoopMatShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) + " " + s.a_type + "->" + s.c_type;
}

json caps_json(const DeviceCaps& c) {
  json heaps = json::array();
  for (const MemoryHeap& h : c.heaps) heaps.push_back({{"size", h.size}, {"budget", h.budget}, {"device_local", h.device_local}});
  json shapes = json::array();
  for (const CoopMatShape& s : c.coopmat_shapes)
    shapes.push_back({{"m", s.m}, {"n", s.n}, {"k", s.k}, {"a_type", s.a_type}, {"c_type", s.c_type}});
  json quirks = json::array();
  for (const QuirkInfo& q : quirk_infos())
    if (c.quirks.has(q.quirk)) quirks.push_back(std::string(q.name));
  return {
      {"subgroup_size", c.subgroup_size},
      {"subgroup_min", c.subgroup_min},
      {"subgroup_max", c.subgroup_max},
      {"subgroup_size_control", c.subgroup_size_control},
      {"compute_full_subgroups", c.compute_full_subgroups},
      {"max_compute_workgroup_subgroups", c.max_compute_workgroup_subgroups},
      {"subgroup_arithmetic", c.subgroup_arithmetic},
      {"subgroup_shuffle", c.subgroup_shuffle},
      {"subgroup_ballot", c.subgroup_ballot},
      {"subgroup_clustered", c.subgroup_clustered},
      {"fp16_arithmetic", c.fp16_arithmetic},
      {"int8_arithmetic", c.int8_arithmetic},
      {"int16_arithmetic", c.int16_arithmetic},
      {"int64_arithmetic", c.int64_arithmetic},
      {"storage_16bit", c.storage_16bit},
      {"storage_8bit", c.storage_8bit},
      {"integer_dot_product", c.integer_dot_product},
      {"integer_dot_4x8_accelerated", c.integer_dot_4x8_accelerated},
      {"cooperative_matrix", c.cooperative_matrix},
      {"coopmat_shapes", shapes},
      {"bfloat16", c.bfloat16},
      {"max_shared_memory", c.max_shared_memory},
      {"max_workgroup_invocations", c.max_workgroup_invocations},
      {"max_workgroup_size", c.max_workgroup_size},
      {"max_workgroup_count", c.max_workgroup_count},
      {"max_push_constants", c.max_push_constants},
      {"max_storage_buffer_range", c.max_storage_buffer_range},
      {"max_memory_allocation", c.max_memory_allocation},
      {"max_buffer_size", c.max_buffer_size},
      {"min_storage_buffer_offset_alignment", c.min_storage_buffer_offset_alignment},
      {"non_coherent_atom_size", c.non_coherent_atom_size},
      {"heaps", heaps},
      {"memory_budget", c.memory_budget},
      {"unified_memory", c.unified_memory},
      {"timestamps", c.timestamps},
      {"timestamp_period_ns", c.timestamp_period_ns},
      {"timestamp_valid_bits", c.timestamp_valid_bits},
      {"push_descriptor", c.push_descriptor},
      {"quirks", quirks},
  };
}

json device_json(const PhysicalDeviceInfo& d, bool selected) {
  const DeviceCaps& c = d.caps;
  return {{"index", d.index},
          {"selected", selected},
          {"usable", d.usable()},
          {"name", c.name},
          {"type", std::string(device_type_name(c.type))},
          {"vendor", vendor_name(c.vendor_id)},
          {"vendor_id", c.vendor_id},
          {"device_id", c.device_id},
          {"driver_name", c.driver_name},
          {"driver_info", c.driver_info},
          {"driver_id", c.driver_id},
          {"driver_version", c.driver_version},
          {"api_version", vk_version_string(c.api_version)},
          {"usable_api_version", vk_version_string(d.api_version)},
          {"queue_family", d.queue_family == PhysicalDeviceInfo::kNoQueue ? json(nullptr) : json(d.queue_family)},
          {"caps", caps_json(c)}};
}

// "key: before -> after" for every capability the profile changed.
json caps_diff(const json& real, const json& masked) {
  json out = json::object();
  for (auto it = real.begin(); it != real.end(); ++it)
    if (masked.contains(it.key()) && masked[it.key()] != it.value())
      out[it.key()] = {{"device", it.value()}, {"profile", masked[it.key()]}};
  return out;
}

void print_caps(const DeviceCaps& c, const char* indent) {
  auto line = [indent](const std::string& k, const std::string& v) {
    std::printf("%s%-22s %s\n", indent, (k + ":").c_str(), v.c_str());
  };
  line("subgroup", std::to_string(c.subgroup_size) + " (min " + std::to_string(c.subgroup_min) + ", max " +
                       std::to_string(c.subgroup_max) + "), size control " + yes(c.subgroup_size_control) +
                       ", full subgroups " + yes(c.compute_full_subgroups));
  line("subgroup ops", "arithmetic " + yes(c.subgroup_arithmetic) + ", shuffle " + yes(c.subgroup_shuffle) + ", ballot " + yes(c.subgroup_ballot) +
                           ", clustered " + yes(c.subgroup_clustered));
  line("arithmetic", "fp16 " + yes(c.fp16_arithmetic) + ", int8 " + yes(c.int8_arithmetic) + ", int16 " +
                         yes(c.int16_arithmetic) + ", int64 " + yes(c.int64_arithmetic) + ", bf16 " + yes(c.bfloat16));
  line("storage", "16-bit " + yes(c.storage_16bit) + ", 8-bit " + yes(c.storage_8bit));
  line("integer dot", yes(c.integer_dot_product) +
                          (c.integer_dot_product ? " (4x8 packed accelerated: " + yes(c.integer_dot_4x8_accelerated) + ")" : ""));
  std::string coop = yes(c.cooperative_matrix);
  for (std::size_t i = 0; i < c.coopmat_shapes.size(); ++i) coop += (i ? ", " : ": ") + shape_name(c.coopmat_shapes[i]);
  line("cooperative matrix", coop);
  line("shared memory", format_bytes_short(c.max_shared_memory));
  line("workgroup", std::to_string(c.max_workgroup_invocations) + " invocations, size " +
                        std::to_string(c.max_workgroup_size[0]) + "x" + std::to_string(c.max_workgroup_size[1]) + "x" +
                        std::to_string(c.max_workgroup_size[2]) + ", count " + std::to_string(c.max_workgroup_count[0]) +
                        "x" + std::to_string(c.max_workgroup_count[1]) + "x" + std::to_string(c.max_workgroup_count[2]));
  line("push constants", std::to_string(c.max_push_constants) + " bytes");
  // "128 MiB (134217728)"
  auto size = [](std::uint64_t b) { return format_bytes_short(b) + " (" + std::to_string(b) + ")"; };
  line("storage buffer range", size(c.max_storage_buffer_range));
  line("memory allocation", size(c.max_memory_allocation));
  line("buffer size", c.max_buffer_size ? size(c.max_buffer_size) : std::string("unknown"));
  line("offset alignment", std::to_string(c.min_storage_buffer_offset_alignment) + " bytes (non-coherent atom " +
                               std::to_string(c.non_coherent_atom_size) + ")");
  for (std::size_t i = 0; i < c.heaps.size(); ++i) {
    const MemoryHeap& h = c.heaps[i];
    line("heap " + std::to_string(i), format_bytes_short(h.size) + (h.device_local ? " device-local" : " host") +
                                          (h.budget ? ", budget " + format_bytes_short(h.budget) : std::string()));
  }
  line("unified memory", yes(c.unified_memory) + ", memory budget ext " + yes(c.memory_budget));
  char ts[96];
  std::snprintf(ts, sizeof ts, "%s (%u valid bits, %.4g ns per tick)", yes(c.timestamps).c_str(), c.timestamp_valid_bits,
                static_cast<double>(c.timestamp_period_ns));
  line("timestamps", ts);
  line("push descriptor", yes(c.push_descriptor));
  line("driver quirks", c.quirks.empty() ? std::string("none known") : quirk_names(c.quirks));
}

void print_json(const std::vector<PhysicalDeviceInfo>& devices, std::optional<std::size_t> sel,
                const std::string& sel_error, const std::string& selector, const DeviceProfile* profile,
                const std::optional<DeviceCaps>& masked) {
  json list = json::array();
  for (std::size_t i = 0; i < devices.size(); ++i) list.push_back(device_json(devices[i], sel == i));
  json out = {{"devices", list}, {"selected", sel ? json(devices[*sel].index) : json(nullptr)}};
  out["selector"] = selector;
  out["profile"] = nullptr;
  if (profile) {
    json p = {{"name", std::string(profile->name)}, {"description", std::string(profile->description)}};
    if (masked) {
      p["caps"] = caps_json(*masked);
      p["changed"] = caps_diff(caps_json(devices[*sel].caps), p["caps"]);
    }
    out["profile"] = p;
  }
  if (!sel_error.empty()) out["error"] = sel_error;
  std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

void print_text(const std::vector<PhysicalDeviceInfo>& devices, std::optional<std::size_t> sel,
                const DeviceProfile* profile, const std::optional<DeviceCaps>& masked) {
  std::printf("Vulkan devices (loader %s):\n", vk_version_string(volkGetInstanceVersion()).c_str());
  for (std::size_t i = 0; i < devices.size(); ++i) {
    const PhysicalDeviceInfo& d = devices[i];
    const DeviceCaps& c = d.caps;
    std::printf("\n%s %u: %s [%s]%s%s\n", sel == i ? "*" : " ", d.index, c.name.c_str(),
                std::string(device_type_name(c.type)).c_str(), sel == i ? "  (selected)" : "",
                d.usable() ? "" : "  (unusable: needs Vulkan 1.1 and a compute queue)");
    std::printf("    %-22s %s (vendor %s, device %s)\n", "vendor:", vendor_name(c.vendor_id).c_str(),
                hex(c.vendor_id).c_str(), hex(c.device_id).c_str());
    std::printf("    %-22s %s, %s (version %s)\n", "driver:", c.driver_name.empty() ? "?" : c.driver_name.c_str(),
                c.driver_info.empty() ? "?" : c.driver_info.c_str(), hex(c.driver_version, 8).c_str());
    std::printf("    %-22s %s (used as %s), queue family %s\n", "api:", vk_version_string(c.api_version).c_str(),
                vk_version_string(d.api_version).c_str(),
                d.queue_family == PhysicalDeviceInfo::kNoQueue ? "none" : std::to_string(d.queue_family).c_str());
    print_caps(c, "    ");
  }
  if (profile && masked) {
    std::printf("\nprofile %s (%s) on device %u:\n", std::string(profile->name).c_str(),
                std::string(profile->description).c_str(), devices[*sel].index);
    const json diff = caps_diff(caps_json(devices[*sel].caps), caps_json(*masked));
    if (diff.empty()) std::printf("    no capability changed\n");
    for (auto it = diff.begin(); it != diff.end(); ++it)
      std::printf("    %-34s %s -> %s\n", it.key().c_str(), it.value()["device"].dump().c_str(),
                  it.value()["profile"].dump().c_str());
    std::printf("  masked caps:\n");
    print_caps(*masked, "    ");
  }
  std::printf("\nselect with --device INDEX|NAME (TESSERA_DEVICE); profiles (--profile, TESSERA_DEVICE_PROFILE):");
  for (const DeviceProfile& p : device_profiles()) std::printf(" %s", std::string(p.name).c_str());
  std::printf("\n");
}

int run_devices(const DevicesOptions& o, const GlobalOptions& g) {
  const char* err = "tessera devices: error: %s\n";
  try {
    EngineOptions opts = EngineOptions::from_env();
    if (!g.device.empty()) opts.device = g.device;
    if (!g.profile.empty()) opts.profile = g.profile;
    opts.validation = opts.validation || g.validation;

    const DeviceProfile* profile = nullptr;
    if (!opts.profile.empty() && !(profile = find_device_profile(opts.profile))) {
      std::string known;
      for (const DeviceProfile& p : device_profiles()) known += (known.empty() ? "" : ", ") + std::string(p.name);
      std::fprintf(stderr, "tessera devices: error: unknown device profile '%s'; known: %s\n", opts.profile.c_str(),
                   known.c_str());
      return 1;
    }
    const std::unique_ptr<Instance> inst = Instance::create(opts.validation);
    const std::vector<PhysicalDeviceInfo> devices = enumerate_devices(*inst);
    std::optional<std::size_t> sel;
    std::string sel_error;
    try {
      sel = select_device(devices, opts.device);
    } catch (const std::exception& e) {
      sel_error = e.what();
    }
    if (devices.empty()) {
      std::fprintf(stderr, err, sel_error.c_str());
      return 1;
    }
    const std::optional<DeviceCaps> masked =
        sel && profile ? std::optional(apply_device_profile(devices[*sel].caps, *profile)) : std::nullopt;

    if (o.json)
      print_json(devices, sel, sel_error, opts.device, profile, masked);
    else
      print_text(devices, sel, profile, masked);
    std::fflush(stdout);
    if (!sel) {
      std::fprintf(stderr, err, sel_error.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, err, e.what());
    return 1;
  }
}

}  // namespace

void add_devices_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<DevicesOptions>();
  CLI::App* cmd = app.add_subcommand("devices", "list Vulkan devices, their capabilities and the one tessera would use");
  cmd->add_flag("--json", opts->json, "print JSON instead of text");
  cmd->fallthrough();  // `tessera devices --profile X` as well as `tessera --profile X devices`
  cmd->callback([opts, &global, &exit_code] { exit_code = run_devices(*opts, global); });
}

}  // namespace tessera::cli
