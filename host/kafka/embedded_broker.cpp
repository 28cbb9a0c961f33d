#include "kafka/embedded_broker.hpp"

#include <librdkafka/rdkafka_mock.h>

#include <array>

#include "common/atomic_file.hpp"

namespace ferry::kafka {

std::unique_ptr<EmbeddedBroker> EmbeddedBroker::start(const std::filesystem::path& state_dir,
                                                      std::string& error) {
  std::unique_ptr<EmbeddedBroker> b(new EmbeddedBroker());
  std::array<char, 512> err{};
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set(conf.get(), "client.id", "ferry-embedded-broker", err.data(), err.size());
  rd_kafka_conf_set(conf.get(), "log_level", "3", err.data(), err.size());
  b->host_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.release(), err.data(), err.size()));
  if (!b->host_) {
    error = std::string("embedded broker: ") + err.data();
    return nullptr;
  }
  b->cluster_ = rd_kafka_mock_cluster_new(b->host_.get(), 1);
  if (b->cluster_ == nullptr) {
    error = "embedded broker: cannot create mock cluster";
    return nullptr;
  }
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (Status s = write_file_atomically(state_dir / "embedded.bootstrap", b->bootstrap_ + "\n");
      !s.ok()) {
    error = "embedded broker: " + s.message();
    return nullptr;
  }
  return b;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

}  // namespace ferry::kafka
