// The insert_header transforms of a connector, as (name, value) pairs the runners add
// to every record passing through.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/connector_config.hpp"

namespace ferry::runtime {

using HeaderInsertions = std::vector<std::pair<std::string, std::string>>;

inline HeaderInsertions header_insertions(const config::ConnectorConfig& c) {
  HeaderInsertions out;
  for (const auto& t : c.transforms)
    if (t.type == "insert_header")
      out.emplace_back(t.options.str("header"), t.options.str("value"));
  return out;
}

}  // namespace ferry::runtime
