#include "transforms/transform_chain.hpp"

namespace ferry::transforms {

MutableRecord to_mutable(const ferry_record_view& v, std::string topic, int64_t timestamp_ms) {
  MutableRecord m;
  if (v.key.data != nullptr) m.key.emplace(v.key.data, v.key.len);
  if (v.value.data != nullptr) m.value.emplace(v.value.data, v.value.len);
  for (size_t h = 0; h < v.header_count; ++h)
    m.headers.emplace_back(v.headers[h].name,
                           std::string(v.headers[h].value.data ? v.headers[h].value.data : "",
                                       v.headers[h].value.len));
  m.topic = std::move(topic);
  m.timestamp_ms = timestamp_ms;
  return m;
}

std::unique_ptr<TransformChain> TransformChain::build(const config::ConnectorConfig& c,
                                                      const PluginFactory& plugins,
                                                      std::string& error) {
  if (c.transforms.empty()) return nullptr;
  auto chain = std::make_unique<TransformChain>();
  for (const auto& t : c.transforms) {
    std::unique_ptr<Transform> made;
    if (t.descriptor != nullptr) {
      made = plugins ? plugins(t, error) : nullptr;
      if (!made) {
        if (error.empty()) error = "transform " + t.type + " cannot be built here";
        return nullptr;
      }
    } else if (const TransformSpec* spec = find_transform(t.type)) {
      made = spec->make(t.options, error);
    }
    if (made) chain->transforms_.push_back(std::move(made));
  }
  return chain;
}

}  // namespace ferry::transforms
