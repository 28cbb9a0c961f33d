// Base64 (RFC 4648) for opaque bytes stored in JSON state files.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry {

std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace ferry
