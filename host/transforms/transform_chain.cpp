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

std::unique_ptr<TransformChain> TransformChain::build(const config::ConnectorConfig& c) {
  if (c.transforms.empty()) return nullptr;
  auto chain = std::make_unique<TransformChain>();
  for (const auto& t : c.transforms) {
    const TransformSpec* spec = find_transform(t.type);
    std::string error;
    auto made = spec != nullptr ? spec->make(t.options, error) : nullptr;
    if (made) chain->transforms_.push_back(std::move(made));
  }
  return chain;
}

}  // namespace ferry::transforms
