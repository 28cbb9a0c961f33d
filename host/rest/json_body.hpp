// Request bodies as JSON, refused before parsing when nested deeper than a limit: the
// parser itself is iterative, but everything that later walks the value (dump, the
// handlers) recurses, so 100,000 '[' would overflow the stack there.
#pragma once

#include <cstddef>
#include <string_view>

namespace ferry::rest {

constexpr size_t kMaxJsonDepth = 64;

// True when `text`, read as JSON, opens more than `max_depth` arrays/objects at once
// (brackets inside strings do not count). Linear, no allocation.
bool json_nested_deeper_than(std::string_view text, size_t max_depth);

}  // namespace ferry::rest
