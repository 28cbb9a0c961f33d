// REST request bodies: the nesting check every route runs first, then a connector
// config as PUT .../config/validate receives it, and the reply serialised.
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/connect_validation.hpp"
#include "fuzz_plugin.hpp"
#include "rest/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (rest::json_nested_deeper_than(body, rest::kMaxJsonDepth)) return 0;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return 0;
  auto reply = config::validate_connect_config(fuzz::fuzz_plugin(), j);
  (void)reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
