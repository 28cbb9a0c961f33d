// `${VAR}`, `${VAR:-default}` and `${file:/path}` in string values, so secrets and
// per-machine settings stay out of the config files. `$${` writes a literal `${`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::config {

struct Substituted {
  std::string value;
  bool from_file = false;  // any part came from ${file:...}: treat the value as secret
};

// Returns the expanded text, or the reason it could not be expanded.
struct SubstitutionResult {
  std::optional<Substituted> ok;
  std::string error;
};

SubstitutionResult substitute(std::string_view text);

}  // namespace ferry::config
