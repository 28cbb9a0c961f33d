// A consumer's offset commit that says while it waits. rd_kafka_commit blocks, without
// a timeout and without serving anything, for as long as the group coordinator is out
// of reach (a broker restart took 90 s here), so the task could not even report why it
// stood still.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>

#include "kafka/kafka_handles.hpp"

namespace ferry::kafka {

// Commits `offsets` synchronously, as rd_kafka_commit(consumer, offsets, 0) does, and
// returns its result; calls `waiting(seconds)` about once a second while no answer came.
inline rd_kafka_resp_err_t commit_offsets_waiting(
    rd_kafka_t* consumer, const rd_kafka_topic_partition_list_t* offsets,
    const std::function<void(int64_t waited_s)>& waiting) {
  QueuePtr answers(rd_kafka_queue_new(consumer));
  rd_kafka_resp_err_t e = rd_kafka_commit_queue(consumer, offsets, answers.get(), nullptr, nullptr);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return e;
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    EventPtr ev(rd_kafka_queue_poll(answers.get(), 1000));
    if (ev && rd_kafka_event_type(ev.get()) == RD_KAFKA_EVENT_OFFSET_COMMIT)
      return rd_kafka_event_error(ev.get());
    waiting(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count());
  }
}

}  // namespace ferry::kafka
