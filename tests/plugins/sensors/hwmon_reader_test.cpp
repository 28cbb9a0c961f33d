#include "hwmon_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/fake_sysfs.hpp"
#include "support/temp_dir.hpp"

namespace ferry::sensors {
namespace {

using test::FakeSysfs;
using test::TempDir;

const Reading& find(const HwmonScan& scan, const std::string& sensor) {
  auto it = std::find_if(scan.readings.begin(), scan.readings.end(),
                         [&](const Reading& r) { return r.sensor == sensor; });
  if (it == scan.readings.end()) throw std::runtime_error("no reading for " + sensor);
  return *it;
}

HwmonScan scan_fixture(const std::string& name, TempDir& dir) {
  FakeSysfs sys(name, dir / "sys");
  return read_hwmon(sys.root().string(), 1'700'000'000'000);
}

TEST(HwmonReader, IntelCoretempWithLabelsLimitsAndThermalZones) {
  TempDir dir;
  HwmonScan scan = scan_fixture("intel-coretemp", dir);
  EXPECT_TRUE(scan.errors.empty());
  EXPECT_EQ(scan.chips, 4u);
  ASSERT_EQ(scan.readings.size(), 6u);

  const Reading& pkg = find(scan, "coretemp/temp1");
  EXPECT_EQ(pkg.device, "coretemp");
  EXPECT_EQ(pkg.label, "Package id 0");
  EXPECT_EQ(pkg.measurement, "temperature");
  EXPECT_EQ(pkg.unit, "C");
  EXPECT_DOUBLE_EQ(pkg.value, 47.0);
  EXPECT_DOUBLE_EQ(*pkg.max, 100.0);
  EXPECT_DOUBLE_EQ(*pkg.crit, 100.0);
  EXPECT_FALSE(pkg.min.has_value());
  EXPECT_EQ(pkg.status, "ok");
  EXPECT_EQ(pkg.ts_ms, 1'700'000'000'000);

  EXPECT_EQ(find(scan, "coretemp/temp2").label, "Core 0");
  EXPECT_EQ(find(scan, "coretemp/temp3").status, "alarm");  // crit_alarm = 1
  EXPECT_DOUBLE_EQ(find(scan, "acpitz/temp1").value, 27.8);

  const Reading& zone0 = find(scan, "thermal_zone0/temp");
  EXPECT_EQ(zone0.label, "acpitz");
  EXPECT_DOUBLE_EQ(*zone0.crit, 119.0);
  const Reading& zone1 = find(scan, "thermal_zone1/temp");
  EXPECT_EQ(zone1.label, "x86_pkg_temp");
  EXPECT_FALSE(zone1.crit.has_value());  // a passive trip point is not a limit
  EXPECT_DOUBLE_EQ(zone1.value, 48.0);
}

TEST(HwmonReader, AmdK10tempTwoNvmeDrivesAndGpuPowerInSiUnits) {
  TempDir dir;
  HwmonScan scan = scan_fixture("amd-k10temp-nvme", dir);
  EXPECT_TRUE(scan.errors.empty());
  // Two chips named "nvme" are told apart by their device link.
  const Reading& n0 = find(scan, "nvme-nvme0/temp1");
  const Reading& n1 = find(scan, "nvme-nvme1/temp1");
  EXPECT_EQ(n0.device, "nvme-nvme0");
  EXPECT_DOUBLE_EQ(n0.value, 38.85);
  EXPECT_DOUBLE_EQ(*n0.min, -273.15);
  EXPECT_DOUBLE_EQ(*n0.crit, 84.85);
  EXPECT_DOUBLE_EQ(n1.value, 41.85);
  EXPECT_EQ(find(scan, "nvme-nvme0/temp2").label, "Sensor 1");

  EXPECT_EQ(find(scan, "k10temp/temp1").label, "Tctl");
  EXPECT_DOUBLE_EQ(find(scan, "k10temp/temp1").value, 48.625);
  EXPECT_DOUBLE_EQ(find(scan, "k10temp/temp3").value, 41.75);

  const Reading& vdd = find(scan, "amdgpu/in0");
  EXPECT_EQ(vdd.measurement, "voltage");
  EXPECT_EQ(vdd.unit, "V");
  EXPECT_DOUBLE_EQ(vdd.value, 0.706);
  const Reading& power = find(scan, "amdgpu/power1");  // power1_average: W from uW
  EXPECT_EQ(power.unit, "W");
  EXPECT_DOUBLE_EQ(power.value, 9.128);
  EXPECT_EQ(scan.readings.size(), 8u);
}

TEST(HwmonReader, FansVoltageCurrentHumidityAlarmsAndFaults) {
  TempDir dir;
  HwmonScan scan = scan_fixture("nct6798-fans", dir);
  EXPECT_TRUE(scan.errors.empty());
  const Reading& fan1 = find(scan, "nct6798/fan1");
  EXPECT_EQ(fan1.measurement, "fan");
  EXPECT_EQ(fan1.unit, "rpm");
  EXPECT_DOUBLE_EQ(fan1.value, 1054);
  EXPECT_EQ(fan1.status, "ok");
  EXPECT_EQ(find(scan, "nct6798/fan2").status, "alarm");
  EXPECT_DOUBLE_EQ(*find(scan, "nct6798/fan2").min, 300);
  EXPECT_DOUBLE_EQ(find(scan, "nct6798/in0").value, 0.896);
  EXPECT_DOUBLE_EQ(*find(scan, "nct6798/in0").max, 1.744);
  EXPECT_EQ(find(scan, "nct6798/curr1").unit, "A");
  EXPECT_DOUBLE_EQ(find(scan, "nct6798/curr1").value, 1.25);
  EXPECT_EQ(find(scan, "nct6798/temp7").status, "fault");
  EXPECT_EQ(find(scan, "sht3x/humidity1").unit, "%");
  EXPECT_DOUBLE_EQ(find(scan, "sht3x/humidity1").value, 45.123);
  EXPECT_DOUBLE_EQ(find(scan, "sht3x/temp1").value, 23.456);
}

TEST(HwmonReader, UnreadableSensorsAreErrorsAndDoNotHideTheOthers) {
  TempDir dir;
  // The EAGAIN sensor is a FIFO with a writer that never writes: a blocking read would
  // hang this test forever, so finishing at all shows the reader does not stall.
  HwmonScan scan = scan_fixture("faulty", dir);
  ASSERT_EQ(scan.readings.size(), 2u);
  EXPECT_DOUBLE_EQ(find(scan, "coretemp/temp1").value, 52.0);
  EXPECT_DOUBLE_EQ(find(scan, "lm75/temp4").value, 24.5);
  ASSERT_EQ(scan.errors.size(), 3u);
  std::vector<std::string> messages;
  for (const auto& e : scan.errors) messages.push_back(e.path + ": " + e.message);
  std::sort(messages.begin(), messages.end());
  EXPECT_NE(messages[0].find("temp1_input: Resource temporarily unavailable"), std::string::npos)
      << messages[0];
  EXPECT_NE(messages[1].find("temp2_input: Is a directory"), std::string::npos) << messages[1];
  EXPECT_NE(messages[2].find("temp3_input: not a number: \"N/A\""), std::string::npos)
      << messages[2];
}

TEST(HwmonReader, NoSensorsAtAll) {
  TempDir dir;
  HwmonScan scan = scan_fixture("empty", dir);
  EXPECT_TRUE(scan.readings.empty());
  EXPECT_TRUE(scan.errors.empty());
  EXPECT_EQ(scan.chips, 0u);
  HwmonScan missing = read_hwmon((dir / "does-not-exist").string(), 0);
  EXPECT_TRUE(missing.readings.empty());
  EXPECT_TRUE(missing.errors.empty());
}

}  // namespace
}  // namespace ferry::sensors
