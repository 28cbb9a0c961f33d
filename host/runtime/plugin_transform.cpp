#include "runtime/plugin_transform.hpp"

#include <fmt/format.h>

#include "runtime/header_insertions.hpp"
#include "transforms/transform_chain.hpp"

namespace ferry::runtime {

Status build_transform_chain(const TaskEnvironment& env,
                             std::unique_ptr<transforms::TransformChain>& chain) {
  chain.reset();
  // insert_header alone: the runners' zero-copy path.
  if (!needs_transform_chain(*env.connector)) return Status::Ok();
  std::string error;
  chain = transforms::TransformChain::build(
      *env.connector,
      [&env](const config::TransformConfig& t, std::string& e)
          -> std::unique_ptr<transforms::Transform> { return PluginTransform::create(t, env, e); },
      error);
  if (!chain) return Status::Fatal(error);
  return Status::Ok();
}

PluginTransform::PluginTransform(const TaskEnvironment& env, std::string type)
    : TaskHost(env.log, *env.metrics, env.connector->name, env.task_id, *env.offsets, *env.state),
      type_(std::move(type)) {}

std::unique_ptr<PluginTransform> PluginTransform::create(const config::TransformConfig& cfg,
                                                         const TaskEnvironment& env,
                                                         std::string& error) {
  std::unique_ptr<PluginTransform> t(new PluginTransform(env, cfg.type));
  Status s =
      t->plugin_.create(cfg.descriptor, cfg.options, t.get(), host_api(), env.connector->name,
                        env.task_id, static_cast<uint32_t>(env.connector->tasks));
  if (!s.ok()) {
    error = fmt::format("transform {} did not start: {}", cfg.type, s.message());
    return nullptr;
  }
  return t;
}

bool PluginTransform::apply(transforms::MutableRecord& m) {
  m.finish();  // earlier steps' JSON changes, into the bytes the plugin sees
  std::vector<ferry_header_view> headers;
  headers.reserve(m.headers.size());
  for (const auto& [name, value] : m.headers)
    headers.push_back({name.c_str(), {value.data(), value.size()}});
  ferry_record_view v{};
  v.struct_size = sizeof(v);
  v.key = m.key ? ferry_bytes{m.key->data(), m.key->size()} : ferry_bytes{nullptr, 0};
  v.value = m.value ? ferry_bytes{m.value->data(), m.value->size()} : ferry_bytes{nullptr, 0};
  v.headers = headers.data();
  v.header_count = headers.size();
  v.topic = m.topic.c_str();
  v.partition = -1;
  v.offset = -1;
  v.timestamp_ms = m.timestamp_ms;

  transforms::MutableRecord out;
  current_ = &out;
  emitted_ = false;
  rejected_.clear();
  ferry_error err{};
  ferry_status s = plugin_.plugin()->transform_apply(plugin_.get(), &v, &err);
  current_ = nullptr;
  if (!rejected_.empty())
    throw transforms::TransformError(fmt::format("transform {}: {}", type_, rejected_));
  if (s != FERRY_OK)
    throw transforms::TransformError(
        fmt::format("transform {} failed: {}", type_, PluginTask::wrap(s, err).message()));
  if (!emitted_) return false;
  if (out.topic.empty()) out.topic = m.topic;
  m = std::move(out);
  return true;
}

ferry_status PluginTransform::emit(const ferry_record_view& r, ferry_error* err) {
  if (current_ == nullptr) {
    detail::write_error(err, "a transform emits only from inside apply");
    return FERRY_FATAL;
  }
  if (emitted_) {
    detail::write_error(err, "a transform emits a record at most once");
    return FERRY_FATAL;
  }
  // The plugin's views point into its own memory: copy before apply returns.
  *current_ = transforms::to_mutable(r, r.topic != nullptr ? r.topic : "", r.timestamp_ms);
  emitted_ = true;
  return FERRY_OK;
}

ferry_status PluginTransform::reject(const ferry_record_view&, const char* reason, ferry_error*) {
  rejected_ = reason != nullptr && reason[0] != '\0' ? reason : "rejected";
  return FERRY_OK;
}

}  // namespace ferry::runtime
