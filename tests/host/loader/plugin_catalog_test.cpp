#include "loader/plugin_catalog.hpp"

#include <gtest/gtest.h>

#include "support/kafka_env.hpp"

namespace ferry::loader {

TEST(PluginCatalog, LoadsPluginsOfACompatibleModule) {
  PluginCatalog catalog;
  catalog.load_directory(test::test_plugin_dir());
  EXPECT_TRUE(catalog.problems().empty());
  ASSERT_NE(catalog.find("test-source"), nullptr);
  ASSERT_NE(catalog.find("test-sink"), nullptr);
  EXPECT_EQ(catalog.find("test-source")->descriptor->kind, FERRY_KIND_SOURCE);
  EXPECT_EQ(catalog.find("test-sink")->descriptor->kind, FERRY_KIND_SINK);
  EXPECT_EQ(catalog.find("nope"), nullptr);
}

TEST(PluginCatalog, RefusesIncompatibleModulesAndKeepsTheOthers) {
  PluginCatalog catalog;
  catalog.load_directory(test::test_plugin_dir() + "/incompatible");
  catalog.load_directory(test::test_plugin_dir());
  ASSERT_EQ(catalog.problems().size(), 2u);
  std::string all = catalog.problems()[0] + "\n" + catalog.problems()[1];
  EXPECT_NE(all.find("libferry_abi_mismatch.so refused: built for plugin ABI 99.0, but this ferry "
                     "speaks ABI 1.7"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("libferry_not_a_plugin.so refused: no ferry_module_entry symbol"),
            std::string::npos)
      << all;
  EXPECT_NE(catalog.find("test-source"), nullptr);
}

TEST(PluginCatalog, AbiCheckLooksAtVersionAndSizes) {
  ferry_module m{FERRY_ABI_VERSION_MAJOR,
                 FERRY_ABI_VERSION_MINOR,
                 sizeof(ferry_module),
                 sizeof(ferry_plugin),
                 sizeof(ferry_record_view),
                 sizeof(ferry_host_api),
                 nullptr,
                 0};
  EXPECT_EQ(check_module_abi(m), "");
  ferry_module older_struct = m;
  older_struct.plugin_size = 8;
  EXPECT_NE(check_module_abi(older_struct), "");
  // A module built against ABI 1.0 (before spans) still loads: its structs are the
  // 1.0 prefix of today's, and the host reads newer fields only when they are there.
  ferry_module abi_1_0 = m;
  abi_1_0.abi_minor = 0;
  abi_1_0.plugin_size = FERRY_PLUGIN_SIZE_1_0;
  abi_1_0.record_view_size = FERRY_RECORD_VIEW_SIZE_1_0;
  abi_1_0.host_api_size = offsetof(ferry_host_api, span_open);
  EXPECT_EQ(check_module_abi(abi_1_0), "");
  ferry_module needs_newer_host = m;
  needs_newer_host.host_api_size = sizeof(ferry_host_api) + 8;
  EXPECT_NE(check_module_abi(needs_newer_host).find("needs a newer ferry"), std::string::npos);
}

TEST(PluginCatalog, MissingDirectoryIsReportedUnlessOptional) {
  PluginCatalog catalog;
  catalog.load_directory("/nonexistent/ferry/plugins", /*optional=*/true);
  EXPECT_TRUE(catalog.problems().empty());
  catalog.load_directory("/nonexistent/ferry/plugins");
  EXPECT_EQ(catalog.problems().size(), 1u);
}

}  // namespace ferry::loader
