// Device selection on hand-made device lists: best by type, by index, by name, clear errors.
#include <gtest/gtest.h>

#include <vector>

#include "engine/device_select.h"

namespace tessera {
namespace {

PhysicalDeviceInfo fake(std::uint32_t index, const char* name, DeviceType type, bool usable = true) {
  PhysicalDeviceInfo d;
  d.index = index;
  d.caps.name = name;
  d.caps.driver_name = "drv" + std::to_string(index);
  d.caps.type = type;
  d.api_version = VK_API_VERSION_1_3;
  d.queue_family = usable ? 0 : PhysicalDeviceInfo::kNoQueue;
  return d;
}

std::vector<PhysicalDeviceInfo> laptop() {
  return {fake(0, "llvmpipe (LLVM 15.0.6, 256 bits)", DeviceType::Cpu),
          fake(1, "Intel(R) Arc(TM) 140V GPU", DeviceType::Integrated),
          fake(2, "NVIDIA GeForce RTX 4060 Laptop GPU", DeviceType::Discrete),
          fake(3, "Broken GPU", DeviceType::Discrete, false)};
}

std::string error_of(const std::vector<PhysicalDeviceInfo>& devs, std::string_view sel) {
  try {
    select_device(devs, sel);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DeviceSelect, BestByTypeSkipsUnusable) {
  EXPECT_EQ(select_device(laptop(), ""), 2u);
  auto devs = laptop();
  devs.erase(devs.begin() + 2);
  EXPECT_EQ(select_device(devs, ""), 1u);  // integrated beats cpu; the unusable discrete is skipped
}

TEST(DeviceSelect, ByIndex) {
  EXPECT_EQ(select_device(laptop(), "0"), 0u);
  EXPECT_EQ(select_device(laptop(), "1"), 1u);
  EXPECT_NE(error_of(laptop(), "7").find("no Vulkan device with index 7"), std::string::npos);
  EXPECT_NE(error_of(laptop(), "3").find("cannot run tessera"), std::string::npos);
}

TEST(DeviceSelect, ByNameSubstringCaseInsensitive) {
  EXPECT_EQ(select_device(laptop(), "arc"), 1u);
  EXPECT_EQ(select_device(laptop(), "RTX 4060"), 2u);
  EXPECT_EQ(select_device(laptop(), "LLVMPIPE"), 0u);
  EXPECT_EQ(select_device(laptop(), "drv1"), 1u);  // driver name matches too
  EXPECT_EQ(select_device(laptop(), "gpu"), 2u);   // several match: the best type wins
}

TEST(DeviceSelect, NoMatchNamesSelectorAndLists) {
  const std::string e = error_of(laptop(), "radeon");
  EXPECT_NE(e.find("no Vulkan device matches 'radeon'"), std::string::npos) << e;
  EXPECT_NE(e.find("1: Intel(R) Arc(TM) 140V GPU [integrated]"), std::string::npos) << e;
}

TEST(DeviceSelect, NoDevicesIsUnavailable) {
  EXPECT_THROW(select_device({}, ""), VulkanUnavailable);
  std::vector<PhysicalDeviceInfo> none{fake(0, "old", DeviceType::Discrete, false)};
  EXPECT_THROW(select_device(none, ""), VulkanUnavailable);
}

}  // namespace
}  // namespace tessera
