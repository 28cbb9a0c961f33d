// Registration: one FERRY_PLUGIN(...) line per plugin turns a C++ task class into the
// C ABI descriptor the host loads. A module (.so) may register several plugins; the
// module entry point is emitted once per module whatever the number of plugins.
#pragma once

#include <concepts>
#include <exception>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "ferry/abi.h"
#include "ferry/config.hpp"
#include "ferry/status.hpp"
#include "ferry/task.hpp"

namespace ferry::detail {

struct Registry {
  std::vector<const ferry_plugin*> plugins;
  ferry_module module{};
};

inline Registry& registry() {
  static Registry r;
  return r;
}

inline bool register_plugin(const ferry_plugin* p) {
  registry().plugins.push_back(p);
  return true;
}

inline const ferry_module* module_descriptor() {
  Registry& r = registry();
  r.module.abi_major = FERRY_ABI_VERSION_MAJOR;
  r.module.abi_minor = FERRY_ABI_VERSION_MINOR;
  r.module.module_size = sizeof(ferry_module);
  r.module.plugin_size = sizeof(ferry_plugin);
  r.module.record_view_size = sizeof(ferry_record_view);
  r.module.host_api_size = sizeof(ferry_host_api);
  r.module.plugins = r.plugins.data();
  r.module.plugin_count = r.plugins.size();
  return &r.module;
}

// Runs plugin code so that no exception crosses the C boundary.
template <typename F>
ferry_status guarded(ferry_error* err, F&& f) {
  try {
    return to_c(f(), err);
  } catch (const std::exception& e) {
    write_error(err, std::string("unhandled exception: ") + e.what());
  } catch (...) {
    write_error(err, "unhandled exception");
  }
  return FERRY_FATAL;
}

template <typename T>
struct TaskBox {
  Host host;
  std::unique_ptr<T> task;
  std::vector<RecordView> batch;  // reused across put calls
};

template <typename T>
struct Adapter {
  static constexpr bool kSource = std::is_base_of_v<SourceTask, T>;
  static constexpr bool kSink = std::is_base_of_v<SinkTask, T>;
  static constexpr bool kTransform = std::is_base_of_v<TransformTask, T>;
  static_assert(int(kSource) + int(kSink) + int(kTransform) == 1,
                "a plugin task derives from exactly one of SourceTask, SinkTask, TransformTask");

  static TaskBox<T>* box(ferry_task* t) { return reinterpret_cast<TaskBox<T>*>(t); }

  static ferry_status create(const ferry_task_init* init, ferry_task** out, ferry_error* err) {
    *out = nullptr;
    return guarded(err, [&] {
      auto b = std::make_unique<TaskBox<T>>();
      b->host = Host(*init);
      Config cfg(init->config, init->config_count);
      b->task = std::make_unique<T>(b->host, cfg);
      Status s = b->task->start();
      if (s.ok()) *out = reinterpret_cast<ferry_task*>(b.release());
      return s;
    });
  }
  static void destroy(ferry_task* t) {
    try {
      delete box(t);
    } catch (...) {
    }
  }
  static ferry_status poll(ferry_task* t, uint32_t max, ferry_error* err) {
    if constexpr (kSource) {
      return guarded(err, [&] { return box(t)->task->poll(max); });
    } else {
      return to_c(Status::Fatal("not a source"), err);
    }
  }
  static void committed(ferry_task* t, ferry_bytes p, ferry_bytes o) {
    if constexpr (kSource) {
      try {
        box(t)->task->committed(std::string_view(p.data, p.len), std::string_view(o.data, o.len));
      } catch (...) {
      }
    }
  }
  static void delivered(ferry_task* t, ferry_bytes p, ferry_bytes o) {
    if constexpr (kSource) {
      try {
        box(t)->task->delivered(std::string_view(p.data, p.len), std::string_view(o.data, o.len));
      } catch (...) {
      }
    }
  }
  static ferry_status put(ferry_task* t, const ferry_record_view* recs, size_t n,
                          ferry_error* err) {
    if constexpr (kSink) {
      return guarded(err, [&] {
        TaskBox<T>* b = box(t);
        b->batch.clear();
        for (size_t i = 0; i < n; ++i) b->batch.emplace_back(recs[i]);
        return b->task->put(std::span<const RecordView>(b->batch));
      });
    } else {
      return to_c(Status::Fatal("not a sink"), err);
    }
  }
  static ferry_status flush(ferry_task* t, ferry_error* err) {
    if constexpr (kSink) {
      return guarded(err, [&] { return box(t)->task->flush(); });
    } else {
      return to_c(Status::Fatal("not a sink"), err);
    }
  }

  static ferry_status apply(ferry_task* t, const ferry_record_view* r, ferry_error* err) {
    if constexpr (kTransform) {
      return guarded(err, [&] { return box(t)->task->apply(RecordView(*r)); });
    } else {
      return to_c(Status::Fatal("not a transform"), err);
    }
  }

  static void stop(ferry_task* t) {
    if constexpr (kSource) {
      ferry_error err{};
      (void)guarded(&err, [&] {
        box(t)->task->stop();
        return Status::Ok();
      });
    }
  }

  static ferry_status span_begin(ferry_task* t, ferry_bytes id, ferry_error* err) {
    if constexpr (kSink) {
      return guarded(err, [&] { return box(t)->task->span_begin({id.data, id.len}); });
    } else {
      return to_c(Status::Fatal("not a sink"), err);
    }
  }
  static ferry_status span_end(ferry_task* t, ferry_bytes id, ferry_error* err) {
    if constexpr (kSink) {
      return guarded(err, [&] { return box(t)->task->span_end({id.data, id.len}); });
    } else {
      return to_c(Status::Fatal("not a sink"), err);
    }
  }

  static ferry_status span_empty(ferry_task* t, const ferry_span_info* info, ferry_error* err) {
    if constexpr (kSink) {
      return guarded(err, [&] {
        EmptySpan span;
        span.id = {info->id.data, info->id.len};
        span.topic = info->topic != nullptr ? info->topic : "";
        span.partition = info->partition;
        span.opened_at_ms = info->opened_at_ms;
        for (size_t i = 0; i < info->attr_count; ++i)
          span.attrs.emplace_back(
              info->attrs[i].name != nullptr ? info->attrs[i].name : "",
              std::string_view(info->attrs[i].value.data, info->attrs[i].value.len));
        return box(t)->task->span_empty(span);
      });
    } else {
      return to_c(Status::Fatal("not a sink"), err);
    }
  }

  // Optional cross-field check: `static ferry::Status validate(const ferry::Config&)`.
  static constexpr bool kHasValidate = requires(const Config& c) {
    { T::validate(c) } -> std::same_as<Status>;
  };

  static ferry_status validate(const ferry_config_entry* cfg, size_t n,
                               ferry_error* err) requires kHasValidate {
    return guarded(err, [&] { return T::validate(Config(cfg, n)); });
  }

  static ferry_plugin describe(const char* name, const char* version, const char* description,
                               std::span<const ferry_option> options) {
    ferry_plugin p{};
    p.struct_size = sizeof(ferry_plugin);
    p.name = name;
    p.version = version;
    p.kind = kSource ? FERRY_KIND_SOURCE : kSink ? FERRY_KIND_SINK : FERRY_KIND_TRANSFORM;
    p.description = description;
    p.options = options.data();
    p.option_count = options.size();
    if constexpr (kHasValidate) p.validate = &validate;
    p.task_create = &create;
    p.task_destroy = &destroy;
    p.source_poll = kSource ? &poll : nullptr;
    p.source_committed = kSource ? &committed : nullptr;
    p.sink_put = kSink ? &put : nullptr;
    p.sink_flush = kSink ? &flush : nullptr;
    p.sink_span_begin = kSink ? &span_begin : nullptr;
    p.sink_span_end = kSink ? &span_end : nullptr;
    p.source_stop = kSource ? &stop : nullptr;
    p.transform_apply = kTransform ? &apply : nullptr;
    p.sink_span_empty = kSink ? &span_empty : nullptr;
    p.source_delivered = kSource ? &delivered : nullptr;
    return p;
  }
};

}  // namespace ferry::detail

// The module entry point. `inline` + `used` makes every translation unit that includes
// this header emit it in a COMDAT group, so a module has exactly one whether it holds
// one plugin or ten.
extern "C" __attribute__((visibility("default"), used)) inline const ferry_module*
ferry_module_entry() {
  return ferry::detail::module_descriptor();
}

#define FERRY_PP_CAT2(a, b) a##b
#define FERRY_PP_CAT(a, b) FERRY_PP_CAT2(a, b)

// FERRY_PLUGIN(TaskClass, "plugin-name", "1.2.0", "What it does", kOptionTable)
// TaskClass derives from ferry::SourceTask, ferry::SinkTask or ferry::TransformTask and
// is constructible
// from (const ferry::Host&, const ferry::Config&). kOptionTable is a static array of
// ferry_option rows (see ferry::opt).
#define FERRY_PLUGIN(TaskClass, name, version, description, options)                         \
  namespace {                                                                                \
  const ferry_plugin FERRY_PP_CAT(ferry_plugin_desc_, __LINE__) =                            \
      ::ferry::detail::Adapter<TaskClass>::describe(name, version, description,              \
                                                    std::span<const ferry_option>(options)); \
  const bool FERRY_PP_CAT(ferry_plugin_reg_, __LINE__) =                                     \
      ::ferry::detail::register_plugin(&FERRY_PP_CAT(ferry_plugin_desc_, __LINE__));         \
  }
