#include "runtime/dead_letter.hpp"

#include <chrono>
#include <string>

#include "kafka/kafka_handles.hpp"

namespace ferry::runtime {

rd_kafka_resp_err_t produce_dead_letter(rd_kafka_t* rk, const std::string& topic,
                                        const ferry_record_view& record,
                                        const DeadLetterContext& ctx, void* opaque) {
  kafka::HeadersPtr headers(rd_kafka_headers_new(record.header_count + 8));
  for (size_t i = 0; i < record.header_count; ++i) {
    const auto& h = record.headers[i];
    rd_kafka_header_add(headers.get(), h.name, -1, h.value.data,
                        h.value.data ? static_cast<ssize_t>(h.value.len) : 0);
  }
  auto add = [&](const char* name, std::string_view v) {
    rd_kafka_header_add(headers.get(), name, -1, v.data(), static_cast<ssize_t>(v.size()));
  };
  add("ferry.error.reason", ctx.reason);
  add("ferry.error.stage", ctx.stage);
  add("ferry.error.connector", ctx.connector);
  add("ferry.error.task", std::to_string(ctx.task));
  if (!ctx.origin_topic.empty()) add("ferry.error.topic", ctx.origin_topic);
  if (ctx.origin_partition >= 0) add("ferry.error.partition", std::to_string(ctx.origin_partition));
  if (ctx.origin_offset >= 0) add("ferry.error.offset", std::to_string(ctx.origin_offset));
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  add("ferry.error.timestamp", std::to_string(now_ms));

  rd_kafka_resp_err_t err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(const_cast<char*>(record.key.data), record.key.len),
      RD_KAFKA_V_VALUE(const_cast<char*>(record.value.data), record.value.len),
      RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) (void)headers.release();  // librdkafka owns them now
  return err;
}

}  // namespace ferry::runtime
