// Who may talk to the REST API: the checks every request passes before any route runs.
// A page in a browser on this machine can reach a loopback API (DNS rebinding sends
// its requests with the attacker's name in Host; a plain cross-site form POST carries
// the page's Origin), so both headers are checked against names the operator allowed.
// Pure functions over header values, so they are unit-tested and fuzzed directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry::rest {

struct RequestGuardSettings {
  // Host names (without port) a request may name in its Host header. Empty: loopback
  // names and the listen address only (see default_allowed_hosts).
  std::vector<std::string> allowed_hosts;
  // Origins ("http://name:port") allowed on requests that change state. Requests without
  // an Origin header (curl, Connect's tooling, ferry's own CLI) are not affected.
  std::vector<std::string> allowed_origins;
  std::string token;  // bearer token; empty: none required
};

// "localhost", "127.0.0.1", "::1" and the host part of `listen` (when not a wildcard).
std::vector<std::string> default_allowed_hosts(std::string_view listen);

// The host part of a Host header value: "Name:8083" -> "name", "[::1]:8083" -> "::1".
// Lower-cased; empty when the value is malformed.
std::string host_of_header(std::string_view host_header);

bool host_allowed(std::string_view host_header, const std::vector<std::string>& allowed);

// An Origin is allowed when it is listed, or names an allowed host on any port with
// http or https ("null" and anything malformed are refused).
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed_hosts,
                    const std::vector<std::string>& allowed_origins);

// Compares in time that depends only on the lengths, never on where they differ.
bool bearer_matches(std::string_view authorization_header, std::string_view token);

}  // namespace ferry::rest
