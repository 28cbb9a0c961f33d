// The insert_header transforms of a connector, as (name, value) pairs the runners add
// to every record passing through without copying it — when they are all the
// connector's transforms. Any other transform makes the whole chain run in order
// (TransformChain), and then this list is empty.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/connector_config.hpp"

namespace ferry::runtime {

using HeaderInsertions = std::vector<std::pair<std::string, std::string>>;

inline bool needs_transform_chain(const config::ConnectorConfig& c) {
  for (const auto& t : c.transforms)
    if (t.type != "insert_header") return true;
  return false;
}

inline HeaderInsertions header_insertions(const config::ConnectorConfig& c) {
  HeaderInsertions out;
  if (needs_transform_chain(c)) return out;
  for (const auto& t : c.transforms)
    if (t.type == "insert_header")
      out.emplace_back(t.options.str("header"), t.options.str("value"));
  return out;
}

}  // namespace ferry::runtime
