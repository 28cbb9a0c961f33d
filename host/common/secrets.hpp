// Every secret value ferry has seen — schema fields marked secret, librdkafka
// passwords and secrets, anything read through ${file:...} — so that log lines and
// REST replies can be scrubbed of them whatever code path would have printed them
// (a plugin logging its config, an error message quoting a value).
#pragma once

#include <string>
#include <string_view>

namespace ferry::secrets {

// Values shorter than this are not scrubbed: masking "1" or "abc" everywhere would
// garble every line while protecting nothing.
constexpr size_t kMinLength = 4;
constexpr std::string_view kMask = "********";

void remember(std::string_view value);
// `text` with every remembered secret replaced by kMask.
std::string scrub(std::string_view text);

}  // namespace ferry::secrets
