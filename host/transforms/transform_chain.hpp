// A connector's [[transforms]], in order, as each task runs them: built from the
// validated config, applied to every record on its way (sources: before produce;
// sinks: before put). A dropped record is still processed for offsets and spans.
#pragma once

#include <functional>
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
  // Makes the plugin transforms (TransformConfig::descriptor set); null + error when
  // one does not start.
  using PluginFactory =
      std::function<std::unique_ptr<Transform>(const config::TransformConfig&, std::string& error)>;

  // Null when the connector has no transforms. The built-in ones were validated with
  // the config, so only a plugin can fail to build: then null with `error` set.
  static std::unique_ptr<TransformChain> build(const config::ConnectorConfig& c,
                                               const PluginFactory& plugins, std::string& error);

  // false: the record is dropped. Throws TransformError for a record that cannot be
  // transformed.
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
