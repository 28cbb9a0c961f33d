#include "cli/spans_command.hpp"

#include <signal.h>

#include <array>
#include <atomic>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/rest_call.hpp"
#include "config/worker_config.hpp"
#include "kafka/client_config.hpp"

namespace ferry::cli {
namespace {

std::atomic<bool> g_stop{false};

int watch(const config::WorkerConfig& w, bool from_beginning) {
  config::KafkaProperties kafka = w.kafka;
  if (!kafka.contains("bootstrap.servers")) {
    std::string b = first_line(w.state_dir / "embedded.bootstrap");
    if (b.empty()) {
      std::cerr << "ferry: no bootstrap.servers and no embedded broker running\n";
      return 2;
    }
    kafka["bootstrap.servers"] = b;
  }
  std::string error;
  auto conf = kafka::make_conf(
      {kafka::consumer_defaults("ferry-spans-watch"), kafka, {{"client.id", "ferry-spans-watch"}}},
      error);
  if (!conf) {
    std::cerr << "ferry: " << error << "\n";
    return 1;
  }
  kafka::KafkaPtr rk = kafka::new_client(RD_KAFKA_CONSUMER, conf, error);
  if (!rk) {
    std::cerr << "ferry: " << error << "\n";
    return 2;
  }
  std::string topic = w.spans.str("topic");
  kafka::TopicPtr rkt(rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr));
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t asked = rd_kafka_metadata(rk.get(), 0, rkt.get(), &raw, 10000);
  kafka::MetadataPtr md(raw);
  if (asked != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
      md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::cerr << "ferry: cannot read span topic " << topic << "\n";
    return 2;
  }
  kafka::PartitionListPtr parts(rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt));
  for (int p = 0; p < md->topics[0].partition_cnt; ++p)
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset =
        from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  md.reset();
  rd_kafka_assign(rk.get(), parts.get());
  signal(SIGINT, [](int) { g_stop = true; });
  signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk.get(), 200));
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    std::cout.write(static_cast<const char*>(m->payload), static_cast<std::streamsize>(m->len));
    std::cout << std::endl;  // flushed per event: watch is usually piped or tailed
  }
  rd_kafka_consumer_close(rk.get());
  return 0;
}

}  // namespace

int cmd_spans(const std::string& worker_path, const SpansArgs& args) {
  config::Diagnostics diags;
  config::WorkerConfig w = config::load_worker_config(worker_path, diags);
  if (!diags.empty()) {
    std::cerr << diags.str();
    return 1;
  }
  if (args.action == "watch") return watch(w, args.from_beginning);
  nlohmann::json body;
  if (args.action == "get") {
    int rc = rest_call(w, args.url, "GET", "/spans/" + args.id, body);
    if (rc == 0) std::cout << body.dump(2) << "\n";
    return rc;
  }
  std::string path = "/spans";
  if (!args.state.empty()) path += "?state=" + args.state;
  int rc = rest_call(w, args.url, "GET", path, body);
  if (rc != 0) return rc;
  if (args.json) {
    std::cout << body.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<34} {:<10} {:<20} {:>10}  {}\n", "SPAN", "STATE", "CONNECTOR",
                           "RECORDS", "OPENED");
  for (const auto& s : body)
    std::cout << fmt::format("{:<34} {:<10} {:<20} {:>10}  {}\n", s.value("span", ""),
                             s.value("state", ""), s.value("connector", ""),
                             s.value("count", uint64_t{0}), s.value("opened_at", ""));
  return 0;
}

}  // namespace ferry::cli
