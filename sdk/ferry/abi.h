/* ferry plugin ABI: the only thing that crosses the .so boundary.
 *
 * Everything here is plain C so that a plugin built with another compiler, standard
 * library or allocator can be loaded safely. Ownership rules:
 *   - `*_view` structs and every pointer inside them are BORROWED: valid only for the
 *     duration of the call that hands them over. Copy what you keep.
 *   - Handles (`ferry_host`, `ferry_task`) are opaque; the side that created one
 *     destroys it.
 *   - No exception may propagate out of a function pointer in either direction.
 *
 * Compatibility: a module reports FERRY_ABI_VERSION_MAJOR/MINOR and the size of each
 * struct it was built with. The host refuses a different major version; within one
 * major version, structs only grow at the end, and a reader checks `struct_size`
 * before touching a field that was added later.
 */
#ifndef FERRY_ABI_H
#define FERRY_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_ABI_VERSION_MAJOR 1u
#define FERRY_ABI_VERSION_MINOR 7u
#define FERRY_MODULE_ENTRY_SYMBOL "ferry_module_entry"

/* Outcome of a call. RETRIABLE: try the same call again later (with backoff).
 * FATAL: the task cannot go on; the host restarts it with backoff.
 * CONFIG: the configuration is wrong; restarting will not help. */
typedef enum ferry_status {
  FERRY_OK = 0,
  FERRY_RETRIABLE = 1,
  FERRY_FATAL = 2,
  FERRY_CONFIG = 3
} ferry_status;

/* Caller-supplied buffer for an error message (as librdkafka's errstr). */
typedef struct ferry_error {
  char message[1024];
} ferry_error;

typedef enum ferry_plugin_kind {
  FERRY_KIND_SOURCE = 1,
  FERRY_KIND_SINK = 2,
  FERRY_KIND_TRANSFORM = 3
} ferry_plugin_kind;

typedef enum ferry_log_level {
  FERRY_LOG_TRACE = 0,
  FERRY_LOG_DEBUG = 1,
  FERRY_LOG_INFO = 2,
  FERRY_LOG_WARN = 3,
  FERRY_LOG_ERROR = 4
} ferry_log_level;

/* ---- configuration schema -------------------------------------------------------- */

typedef enum ferry_option_type {
  FERRY_OPT_STRING = 1,
  FERRY_OPT_INT = 2,
  FERRY_OPT_FLOAT = 3,
  FERRY_OPT_BOOL = 4,
  FERRY_OPT_DURATION = 5, /* "250ms", "5s", "15m", "1h", "2d"; delivered as milliseconds */
  FERRY_OPT_SIZE = 6,     /* "512", "64KiB", "1MiB", "1GB"; delivered as bytes */
  FERRY_OPT_STRING_LIST = 7,
  FERRY_OPT_ENUM = 8 /* a string restricted to `enum_values` */
} ferry_option_type;

#define FERRY_OPT_REQUIRED 0x1u
#define FERRY_OPT_SECRET 0x2u    /* masked in logs, REST and docs */
#define FERRY_OPT_HAS_RANGE 0x4u /* `min`/`max` apply (INT, FLOAT, DURATION, SIZE) */

/* One row of a plugin's option table. `default_value` is written as the user would
 * write it in TOML (without quotes for strings), e.g. "5s", "true", "a,b" for lists;
 * NULL means no default. `enum_values` is "|"-separated, e.g. "tail|batch". */
typedef struct ferry_option {
  const char* name;
  ferry_option_type type;
  uint32_t flags;
  const char* default_value;
  const char* enum_values;
  double min;
  double max;
  const char* doc;
} ferry_option;

/* A validated, defaults-filled option value as the host hands it to a task. Scalars
 * arrive as their canonical text: INT as decimal, FLOAT as decimal, BOOL as
 * "true"/"false", DURATION as integer milliseconds, SIZE as integer bytes. */
typedef struct ferry_config_entry {
  const char* name;
  ferry_option_type type;
  const char* value;        /* scalars; NULL for lists or when absent */
  const char* const* items; /* STRING_LIST items */
  size_t item_count;
  int present; /* 0 when the option has no value and no default */
} ferry_config_entry;

/* ---- records --------------------------------------------------------------------- */

typedef struct ferry_bytes {
  const char* data; /* NULL means "null" (absent key, tombstone value) */
  size_t len;
} ferry_bytes;

typedef struct ferry_header_view {
  const char* name; /* NUL-terminated */
  ferry_bytes value;
} ferry_header_view;

/* The record carries no payload: it only moves the source offset forward once every
 * record emitted before it in the same source partition is delivered. Lets a source
 * checkpoint progress that produced no record (an empty file, a skipped line). */
#define FERRY_RECORD_OFFSET_ONLY 0x1u

typedef struct ferry_record_view {
  uint32_t struct_size;
  uint32_t flags;
  ferry_bytes key;
  ferry_bytes value;
  const ferry_header_view* headers;
  size_t header_count;
  /* Sources: optional topic (NULL = the connector's topic). Sinks: the record's topic. */
  const char* topic;
  int32_t partition;    /* sinks: Kafka partition; sources: -1 (partitioner decides) */
  int64_t offset;       /* sinks: Kafka offset; sources: unused */
  int64_t timestamp_ms; /* 0 = now (sources); CreateTime/LogAppendTime (sinks) */
  /* Sources only: where this record came from, opaque to the host. The host commits
   * `source_offset` for `source_partition` only after this record and every record
   * emitted before it for the same partition are acknowledged by Kafka. */
  ferry_bytes source_partition;
  ferry_bytes source_offset;
  /* ---- ABI 1.1 ---- */
  /* Sources: the span this record belongs to, named by the key the plugin passed to
   * `span_open` (empty = no span). Sinks: the span id from the `ferry.span` header. */
  ferry_bytes span;
  /* Sinks: the record's `ferry.span.seq` (1-based), 0 when it has no span. */
  uint64_t span_seq;
} ferry_record_view;

/* Size of a 1.0 record view: fields after it are read only when struct_size covers them. */
#define FERRY_RECORD_VIEW_SIZE_1_0 offsetof(ferry_record_view, span)

/* ---- host services, called by plugins ---------------------------------------------- */

typedef struct ferry_host ferry_host;

typedef void (*ferry_bytes_fn)(void* user, ferry_bytes key, ferry_bytes value);

/* Thread contract: a task is driven by one host thread; every host function taking a
 * `ferry_host*` must be called from inside a call the host made into that task,
 * except `log`, which any thread may call. */
typedef struct ferry_host_api {
  uint32_t struct_size;
  void (*log)(ferry_host* host, ferry_log_level level, const char* message, size_t len);
  /* Adds `delta` to counter `name` (labelled with connector and task by the host). */
  void (*counter_add)(ferry_host* host, const char* name, double delta);
  void (*gauge_set)(ferry_host* host, const char* name, double value);
  /* Sources: hands a record to the host, which copies it. Never blocks. */
  ferry_status (*emit)(ferry_host* host, const ferry_record_view* record, ferry_error* err);
  /* A record this task cannot process (bad input). With errors.tolerance = "all" it
   * goes to the dead letter topic with `reason`; otherwise the task fails. Returns
   * FERRY_OK when the record was accepted by the dead letter path. */
  ferry_status (*reject)(ferry_host* host, const ferry_record_view* record, const char* reason,
                         ferry_error* err);
  /* Committed source offsets of this connector: one call of `fn` per partition. */
  void (*offsets_list)(ferry_host* host, ferry_bytes_fn fn, void* user);
  /* Plugin-private durable key/value state, written atomically under state_dir. A
   * NULL value.data deletes the key. */
  ferry_status (*state_put)(ferry_host* host, ferry_bytes key, ferry_bytes value, ferry_error* err);
  void (*state_list)(ferry_host* host, ferry_bytes_fn fn, void* user);
  /* ---- ABI 1.1 ---- */
  /* Sources: opens the span the plugin names `key` (e.g. a file's identity), or
   * resumes it under its old id and sequence when it was open when the task last
   * stopped. `attrs` become the `attrs` of span.opened. Opening a key whose span was
   * closed starts a new span. A no-op when the connector has spans disabled. */
  ferry_status (*span_open)(ferry_host* host, ferry_bytes key, const ferry_header_view* attrs,
                            size_t attr_count, ferry_error* err);
  /* Sources: the span `key` will get no more records. */
  ferry_status (*span_close)(ferry_host* host, ferry_bytes key, ferry_error* err);
  /* ---- ABI 1.4 ---- */
  /* Sources: creates Kafka topic `topic` with `configs` (e.g. cleanup.policy=compact)
   * unless it exists; partitions <= 0 takes the broker's default. Blocks up to ~10 s,
   * so call it once per topic. FERRY_OK when the topic exists afterwards, or when the
   * broker cannot create topics (the embedded one auto-creates them). */
  ferry_status (*topic_ensure)(ferry_host* host, const char* topic, int32_t partitions,
                               const ferry_header_view* configs, size_t config_count,
                               ferry_error* err);
  /* ---- ABI 1.5 ---- */
  /* Sources: drops the committed offset of source partition `partition` (e.g. a file
   * that was delivered and deleted), so that the stored offsets do not grow with every
   * partition a long-running source ever had. Call it once the partition's last offset
   * was reported by `source_committed`; records of the partition emitted afterwards
   * start it afresh. The removal is saved with the next offset commit. */
  ferry_status (*offset_forget)(ferry_host* host, ferry_bytes partition, ferry_error* err);
} ferry_host_api;

typedef struct ferry_task_init {
  uint32_t struct_size;
  const ferry_host_api* api;
  ferry_host* host;
  const char* connector; /* connector name */
  uint32_t task_id;
  uint32_t task_count;
  /* The plugin's validated options, then (ABI 1.1) the connector's [span] settings
   * as "span.enabled" (BOOL), "span.ttl" and "span.idle_close" (DURATION), then
   * (ABI 1.4) "connector.topic" (STRING), the connector's topic as written, which a
   * source may treat as a template. */
  const ferry_config_entry* config;
  size_t config_count;
} ferry_task_init;

/* ---- the plugin ---------------------------------------------------------------------- */

typedef struct ferry_task ferry_task;

/* ABI 1.6: a span that ended with no record (an empty file), as sinks learn of it. */
typedef struct ferry_span_info {
  uint32_t struct_size;
  ferry_bytes id;
  const char* topic;    /* a topic the span was for, which this task reads */
  int32_t partition;    /* the partition whose owner is told: 0 */
  int64_t opened_at_ms; /* when the source opened it */
  /* The source's attributes (file-source: "path", "file"). */
  const ferry_header_view* attrs;
  size_t attr_count;
} ferry_span_info;

typedef struct ferry_plugin {
  uint32_t struct_size;
  const char* name;    /* e.g. "file-source"; unique across loaded modules */
  const char* version; /* the plugin's own version */
  ferry_plugin_kind kind;
  const char* description;
  const ferry_option* options;
  size_t option_count;

  /* Cross-field checks after the host validated each option against the table.
   * Optional (NULL). */
  ferry_status (*validate)(const ferry_config_entry* config, size_t count, ferry_error* err);

  ferry_status (*task_create)(const ferry_task_init* init, ferry_task** out, ferry_error* err);
  /* Releases everything; the host calls it exactly once per created task. */
  void (*task_destroy)(ferry_task* task);

  /* Sources: emit up to about `max_records` records through `emit`. Return quickly when
   * there is nothing to read; the host does the waiting. */
  ferry_status (*source_poll)(ferry_task* task, uint32_t max_records, ferry_error* err);
  /* Sources, optional: `offset` is now durably committed for `partition`. */
  void (*source_committed)(ferry_task* task, ferry_bytes partition, ferry_bytes offset);

  /* Sinks: process a batch; the views are valid during the call only. */
  ferry_status (*sink_put)(ferry_task* task, const ferry_record_view* records, size_t count,
                           ferry_error* err);
  /* Sinks: make everything put so far durable. Offsets are committed after OK. */
  ferry_status (*sink_flush)(ferry_task* task, ferry_error* err);

  /* ---- ABI 1.1 ---- */
  /* Sinks, optional: called before the first record of span `span_id` reaches this
   * task (again after a restart or rebalance while the span is unfinished). */
  ferry_status (*sink_span_begin)(ferry_task* task, ferry_bytes span_id, ferry_error* err);
  /* Sinks, optional: this task has put and flushed every record of the span on its
   * partitions. Offsets past the span are committed only after this returns OK, so a
   * crash in between delivers the span's last records again: be idempotent. */
  ferry_status (*sink_span_end)(ferry_task* task, ferry_bytes span_id, ferry_error* err);

  /* ---- ABI 1.2 ---- */
  /* Sources, optional: the host is stopping the task. Stop taking new input (close
   * subscriptions, stop reading); the host then keeps calling source_poll, up to the
   * worker's shutdown_timeout, until a poll emits nothing, so records the plugin
   * already holds reach Kafka before the task is destroyed. */
  void (*source_stop)(ferry_task* task);

  /* ---- ABI 1.3 ---- */
  /* Transforms (kind FERRY_KIND_TRANSFORM): one record passing through a connector's
   * [[transforms]] chain. Pass it on, changed or not, by calling the host's emit at
   * most once; emit nothing to drop it. An error (or the host's reject) hands the
   * record to the connector's error handling: its dead letter topic under
   * errors.tolerance = "all", else the task fails. The view is valid during the call
   * only; the host copies what is emitted. */
  ferry_status (*transform_apply)(ferry_task* task, const ferry_record_view* record,
                                  ferry_error* err);

  /* ---- ABI 1.6 ---- */
  /* Sinks, optional: a span ended with no record at all (an empty file) and was
   * delivered; no span_begin/span_end comes for it. Only the task that owns partition 0
   * of the topic is told, when it has that partition, and again after a restart or a
   * rebalance: be idempotent (remember the span ids you handled). */
  ferry_status (*sink_span_empty)(ferry_task* task, const ferry_span_info* span, ferry_error* err);

  /* ---- ABI 1.7 ---- */
  /* Sources, optional: Kafka has acknowledged (or the dead letter path has taken) every
   * record of source partition `partition` up to and including the one emitted with
   * `offset`; nothing is saved yet (source_committed says when it is). Called on the
   * task's thread, at most once per partition per round of delivery reports, with the
   * newest such offset; records without a source partition count as partition "".
   * Lets a source hold its own acknowledgement upstream (an MQTT PUBACK) until Kafka
   * has the record, without waiting for the next offset commit. */
  void (*source_delivered)(ferry_task* task, ferry_bytes partition, ferry_bytes offset);
} ferry_plugin;

#define FERRY_PLUGIN_SIZE_1_0 offsetof(ferry_plugin, sink_span_begin)
#define FERRY_PLUGIN_SIZE_1_1 offsetof(ferry_plugin, source_stop)
#define FERRY_PLUGIN_SIZE_1_2 offsetof(ferry_plugin, transform_apply)
#define FERRY_PLUGIN_SIZE_1_5 offsetof(ferry_plugin, sink_span_empty)
#define FERRY_PLUGIN_SIZE_1_6 offsetof(ferry_plugin, source_delivered)
/* True when plugin `p` (built against any 1.x) has the member `field`. */
#define FERRY_PLUGIN_HAS(p, field) \
  ((p)->struct_size >= offsetof(ferry_plugin, field) + sizeof((p)->field) && (p)->field != NULL)

/* What the module's entry point returns: static data that lives as long as the
 * module is loaded. */
typedef struct ferry_module {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t module_size;      /* sizeof(ferry_module) as the plugin saw it */
  uint32_t plugin_size;      /* sizeof(ferry_plugin) as the plugin saw it */
  uint32_t record_view_size; /* sizeof(ferry_record_view) as the plugin saw it */
  uint32_t host_api_size;    /* sizeof(ferry_host_api) the plugin needs at least */
  const ferry_plugin* const* plugins;
  size_t plugin_count;
} ferry_module;

typedef const ferry_module* (*ferry_module_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_ABI_H */
