// The .deb as a user gets it: built by CPack from this build tree, unpacked with
// dpkg-deb, and the unpacked ferry validates the configuration it ships.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/kafka_env.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

TEST(Package, DebHasTheFhsLayoutAndItsFerryValidatesTheShippedConfigs) {
  TempDir dir;
  auto out = dir / "pkg";
  auto pack = run_command({"cpack", "-G", "DEB", "-B", out.string(), "--config",
                           std::string(FERRY_TEST_BUILD_DIR) + "/CPackConfig.cmake"});
  ASSERT_EQ(pack.exit_code, 0) << pack.out << pack.err;
  std::filesystem::path deb;
  for (const auto& e : std::filesystem::directory_iterator(out))
    if (e.path().extension() == ".deb") deb = e.path();
  ASSERT_FALSE(deb.empty()) << pack.out;

  auto root = dir / "root";
  auto x = run_command({"dpkg-deb", "-x", deb.string(), root.string()});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  for (const char* p : {"usr/bin/ferry", "usr/lib/ferry/plugins/libferry_file.so",
                        "usr/lib/ferry/plugins/libferry_sensors.so", "etc/ferry/ferry.toml",
                        "etc/ferry/connectors.d/app-logs.toml.example", "var/lib/ferry",
                        "usr/lib/systemd/system/ferry.service", "usr/include/ferry/sdk.hpp"})
    EXPECT_TRUE(std::filesystem::exists(root / p)) << p;

  // The maintainer scripts create the service user; the worker file is a conffile.
  auto control = dir / "control";
  ASSERT_EQ(run_command({"dpkg-deb", "-e", deb.string(), control.string()}).exit_code, 0);
  EXPECT_NE(read_file(control / "postinst").find("adduser --system"), std::string::npos);
  EXPECT_EQ(read_file(control / "conffiles"), "/etc/ferry/ferry.toml\n");
  for (const char* script : {"postinst", "prerm", "postrm"})
    EXPECT_EQ(run_command({"sh", "-n", (control / script).string()}).exit_code, 0) << script;
  auto fields = run_command({"dpkg-deb", "-f", deb.string(), "Depends"});
  EXPECT_NE(fields.out.find("librdkafka1"), std::string::npos) << fields.out;

  // The unpacked binary finds the unpacked plugins and accepts what the package ships.
  std::vector<std::string> args{(root / "usr/bin/ferry").string(), "validate", "-c",
                                (root / "etc/ferry/ferry.toml").string()};
  for (const auto& e : std::filesystem::directory_iterator(root / "etc/ferry/connectors.d"))
    args.push_back(e.path().string());
  ASSERT_GE(args.size(), 6u);
  auto v = run_command(args);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("ok: worker"), std::string::npos) << v.out;
  auto plugins = run_command({(root / "usr/bin/ferry").string(), "plugins", "--json"});
  EXPECT_NE(plugins.out.find((root / "usr/lib/ferry/plugins/libferry_file.so").string()),
            std::string::npos)
      << plugins.out;
}

}  // namespace ferry::test
