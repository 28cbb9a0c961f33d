// The headers every REST request is judged by: Host, Origin, Authorization.
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "rest/request_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view listen = fuzz::take_field(in);
  std::string_view host = fuzz::take_field(in);
  std::string_view origin = fuzz::take_field(in);
  std::string_view authorization = fuzz::take_field(in);
  auto hosts = rest::default_allowed_hosts(listen);
  (void)rest::host_allowed(host, hosts);
  (void)rest::origin_allowed(origin, hosts, {"https://console.example"});
  (void)rest::bearer_matches(authorization, in);
  return 0;
}
