#include "runtime/task_host.hpp"

#include <exception>

#include "ferry/status.hpp"
#include "spans/span_ledger.hpp"

namespace ferry::runtime {

void TaskHost::log(ferry_log_level level, std::string_view message) {
  static constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::trace,
                                                          spdlog::level::debug, spdlog::level::info,
                                                          spdlog::level::warn, spdlog::level::err};
  auto l = level <= FERRY_LOG_ERROR ? kLevels[level] : spdlog::level::err;
  log_->log(l, "{}", message);
}

metrics::KafkaClientStats TaskHost::on_kafka_stats(const char* json, size_t len) {
  metrics::KafkaClientStats stats;
  if (parse_kafka_stats(json, len, stats))
    metrics_.set_kafka_stats(connector_, task_id_, stats);
  else
    stats.role.clear();
  return stats;
}

void TaskHost::counter_add(const char* name, double delta) {
  metrics_.add(name, connector_, task_id_, delta);
}

void TaskHost::gauge_set(const char* name, double value) {
  metrics_.set(name, connector_, task_id_, value);
}

ferry_status TaskHost::span_open(ferry_bytes, const ferry_header_view*, size_t, ferry_error* err) {
  return detail::to_c(Status::Fatal("only source tasks open spans"), err);
}

ferry_status TaskHost::span_close(ferry_bytes, ferry_error* err) {
  return detail::to_c(Status::Fatal("only source tasks close spans"), err);
}

ferry_status TaskHost::topic_ensure(const char*, int32_t, const ferry_header_view*, size_t,
                                    ferry_error* err) {
  return detail::to_c(Status::Fatal("only source tasks create topics"), err);
}

ferry_status TaskHost::offset_forget(ferry_bytes, ferry_error* err) {
  return detail::to_c(Status::Fatal("only source tasks forget offsets"), err);
}

void TaskHost::offsets_list(ferry_bytes_fn fn, void* user) {
  offsets_.for_each([&](const std::string& k, const std::string& v) {
    if (k.starts_with(spans::kStateKeyPrefix)) return;  // the host's own span state
    fn(user, ferry_bytes{k.data(), k.size()}, ferry_bytes{v.data(), v.size()});
  });
}

ferry_status TaskHost::state_put(ferry_bytes key, ferry_bytes value, ferry_error* err) {
  std::optional<std::string> v;
  if (value.data != nullptr) v = std::string(value.data, value.len);
  return detail::to_c(state_.update({{std::string(key.data, key.len), v}}), err);
}

void TaskHost::state_list(ferry_bytes_fn fn, void* user) {
  state_.for_each([&](const std::string& k, const std::string& v) {
    fn(user, ferry_bytes{k.data(), k.size()}, ferry_bytes{v.data(), v.size()});
  });
}

namespace {

TaskHost* self(ferry_host* h) {
  return static_cast<TaskHost*>(h);
}

template <typename F>
ferry_status guard(ferry_error* err, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    detail::write_error(err, std::string("host error: ") + e.what());
  } catch (...) {
    detail::write_error(err, "host error");
  }
  return FERRY_FATAL;
}

const ferry_host_api kApi = {
    sizeof(ferry_host_api),
    [](ferry_host* h, ferry_log_level level, const char* msg, size_t len) {
      try {
        self(h)->log(level, std::string_view(msg, len));
      } catch (...) {
      }
    },
    [](ferry_host* h, const char* name, double delta) {
      try {
        self(h)->counter_add(name, delta);
      } catch (...) {
      }
    },
    [](ferry_host* h, const char* name, double value) {
      try {
        self(h)->gauge_set(name, value);
      } catch (...) {
      }
    },
    [](ferry_host* h, const ferry_record_view* r, ferry_error* err) {
      return guard(err, [&] { return self(h)->emit(*r, err); });
    },
    [](ferry_host* h, const ferry_record_view* r, const char* reason, ferry_error* err) {
      return guard(err, [&] { return self(h)->reject(*r, reason ? reason : "", err); });
    },
    [](ferry_host* h, ferry_bytes_fn fn, void* user) {
      try {
        self(h)->offsets_list(fn, user);
      } catch (...) {
      }
    },
    [](ferry_host* h, ferry_bytes key, ferry_bytes value, ferry_error* err) {
      return guard(err, [&] { return self(h)->state_put(key, value, err); });
    },
    [](ferry_host* h, ferry_bytes_fn fn, void* user) {
      try {
        self(h)->state_list(fn, user);
      } catch (...) {
      }
    },
    [](ferry_host* h, ferry_bytes key, const ferry_header_view* attrs, size_t count,
       ferry_error* err) {
      return guard(err, [&] { return self(h)->span_open(key, attrs, count, err); });
    },
    [](ferry_host* h, ferry_bytes key, ferry_error* err) {
      return guard(err, [&] { return self(h)->span_close(key, err); });
    },
    [](ferry_host* h, const char* topic, int32_t partitions, const ferry_header_view* configs,
       size_t count, ferry_error* err) {
      return guard(err,
                   [&] { return self(h)->topic_ensure(topic, partitions, configs, count, err); });
    },
    [](ferry_host* h, ferry_bytes partition, ferry_error* err) {
      return guard(err, [&] { return self(h)->offset_forget(partition, err); });
    },
};

}  // namespace

const ferry_host_api* host_api() {
  return &kApi;
}

}  // namespace ferry::runtime
