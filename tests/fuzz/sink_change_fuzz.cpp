// Records as odbc-sink reads them: Debezium envelopes (with or without Connect's
// schema/payload wrapping), flat JSON, tombstones; key and value split at the first NUL.
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_input.hpp"
#include "sink_change.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::odbc;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view key = ferry::fuzz::take_field(in, '\0');
  std::optional<std::string_view> value;
  if (!in.empty()) value = in;
  for (const auto& columns : {std::vector<std::string>{}, std::vector<std::string>{"id"}}) {
    Change c;
    std::string error;
    (void)parse_change(key.empty() ? std::nullopt : std::optional(key), value, columns, c, error);
  }
  (void)table_for_topic("{table}_{topic}", key);
  return 0;
}
