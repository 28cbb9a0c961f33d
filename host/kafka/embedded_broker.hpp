// The embedded default: an in-process Kafka-protocol broker (librdkafka's mock
// cluster) for the quick start and demos when no bootstrap.servers is configured.
// It keeps nothing across restarts and only the newest few MiB per partition.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "kafka/kafka_handles.hpp"

typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace ferry::kafka {

class EmbeddedBroker {
 public:
  // Starts the broker and writes its address to `<state_dir>/embedded.bootstrap`.
  static std::unique_ptr<EmbeddedBroker> start(const std::filesystem::path& state_dir,
                                               std::string& error);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  rd_kafka_mock_cluster_t* cluster() const { return cluster_; }

 private:
  EmbeddedBroker() = default;
  KafkaPtr host_;  // the mock cluster lives inside this handle and must die first
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace ferry::kafka
