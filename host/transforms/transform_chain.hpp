// A connector's [[transforms]], in order, as each task runs them: built from the
// validated config, applied to every record on its way (sources: before produce;
// sinks: before put). A dropped record is still processed for offsets and spans.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/connector_config.hpp"
#include "transforms/transform.hpp"

namespace ferry::transforms {

// An owned copy of a record view for the chain (null key and tombstone preserved).
MutableRecord to_mutable(const ferry_record_view& v, std::string topic, int64_t timestamp_ms);

class TransformChain {
 public:
  // Null when the connector has no transforms; throws nothing (the config was
  // validated, so every transform builds).
  static std::unique_ptr<TransformChain> build(const config::ConnectorConfig& c);

  // false: the record is dropped.
  bool apply(MutableRecord& r) {
    for (auto& t : transforms_)
      if (!t->apply(r)) return false;
    r.finish();
    return true;
  }

 private:
  std::vector<std::unique_ptr<Transform>> transforms_;
};

}  // namespace ferry::transforms
