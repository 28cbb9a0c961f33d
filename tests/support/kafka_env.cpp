#include "support/kafka_env.hpp"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ferry::test {

std::string test_service_dir(const std::string& service) {
  if (const char* dir = std::getenv("FERRY_TEST_SERVICES_DIR"); dir && *dir)
    return std::string(dir) + "/" + service;
  return "";
}

std::string test_bootstrap() {
  if (const char* b = std::getenv("FERRY_TEST_BOOTSTRAP"); b && *b) return b;
  if (std::string dir = test_service_dir("kafka"); !dir.empty()) {
    if (std::string s = read_line_file(dir + "/bootstrap"); !s.empty()) return s;
  }
  throw std::runtime_error(
      "no test Kafka broker: run the suite with scripts/test.sh (or ctest, whose 'services' "
      "fixture starts one), or set FERRY_TEST_BOOTSTRAP");
}

std::string unique_topic(const std::string& prefix) {
  static std::atomic<int> n{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return prefix + "." + std::to_string(::getpid()) + "." + std::to_string(now % 1000000007) + "." +
         std::to_string(n++);
}

std::vector<KafkaMessage> kcat_consume(const std::string& topic, int64_t limit) {
  if (limit == 0) return {};
  std::vector<std::string> argv{"kcat", "-C", "-b", test_bootstrap(),       "-t", topic,
                                "-e",   "-q", "-f", "%p %o %K %S\n%h\n%k%s"};
  if (limit > 0) argv.insert(argv.end(), {"-c", std::to_string(limit)});
  auto r = run_command(argv);
  // Polling before the first record: the topic does not exist yet, so it is empty.
  if (r.exit_code != 0 && r.err.find("Unknown topic or partition") != std::string::npos) return {};
  if (r.exit_code != 0) throw std::runtime_error("kcat -C failed: " + r.err);
  std::vector<KafkaMessage> out;
  const std::string& s = r.out;
  size_t i = 0;
  while (i < s.size()) {
    size_t nl = s.find('\n', i);
    if (nl == std::string::npos) throw std::runtime_error("kcat output truncated");
    KafkaMessage m;
    long long klen = 0, vlen = 0;
    // sscanf on the whole buffer would strlen() 40 MB per message: parse the line alone.
    std::string head = s.substr(i, nl - i);
    if (std::sscanf(head.c_str(), "%d %ld %lld %lld", &m.partition, &m.offset, &klen, &vlen) != 4)
      throw std::runtime_error("unexpected kcat output");
    size_t hl = s.find('\n', nl + 1);
    std::string headers = s.substr(nl + 1, hl - nl - 1);
    size_t start = 0;
    while (start < headers.size()) {
      size_t comma = headers.find(',', start);
      std::string kv =
          headers.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto eq = kv.find('=');
      if (eq != std::string::npos) m.headers[kv.substr(0, eq)] = kv.substr(eq + 1);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    i = hl + 1;
    if (klen >= 0) {
      m.key = s.substr(i, static_cast<size_t>(klen));
      i += static_cast<size_t>(klen);
    }
    if (vlen >= 0) {
      m.value = s.substr(i, static_cast<size_t>(vlen));
      i += static_cast<size_t>(vlen);
    }
    out.push_back(std::move(m));
  }
  return out;
}

int64_t end_offset(const std::string& topic, int32_t partition) {
  auto r = run_command({"kcat", "-Q", "-b", test_bootstrap(), "-t",
                        topic + ":" + std::to_string(partition) + ":-1"});
  auto pos = r.out.find("offset ");
  if (r.exit_code != 0 || pos == std::string::npos) return 0;  // topic not created yet
  return std::stoll(r.out.substr(pos + 7));
}

int64_t committed_offset(const std::string& group, const std::string& topic, int32_t partition) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", test_bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(std::string("consumer: ") + err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), partition);
  // Asks the group coordinator only: this client never joins the group.
  rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, 10000);
  int64_t offset = e == RD_KAFKA_RESP_ERR_NO_ERROR ? parts->elems[0].offset : -2;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy(rk);
  if (offset == -2) throw std::runtime_error(std::string("committed: ") + rd_kafka_err2str(e));
  return offset < 0 ? -1 : offset;
}

void kcat_produce_lines(const std::string& topic, const std::string& file) {
  auto r = run_command(
      {"kcat", "-P", "-b", test_bootstrap(), "-t", topic, "-X", "enable.idempotence=true"}, {},
      file);
  if (r.exit_code != 0) throw std::runtime_error("kcat -P failed: " + r.err);
}

void create_topic(const std::string& topic, int partitions,
                  const std::map<std::string, std::string>& configs) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", test_bootstrap().c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  std::string failure = ev == nullptr ? "timed out" : "";
  if (ev != nullptr) {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n == 1 && rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_NO_ERROR)
      failure = rd_kafka_topic_result_error_string(res[0]);
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  if (!failure.empty()) throw std::runtime_error("create topic " + topic + ": " + failure);
}

std::string topic_config(const std::string& topic, const std::string& name) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", test_bootstrap().c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_DescribeConfigs(rk, &res, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  std::string value, failure = ev == nullptr ? "timed out" : "";
  if (ev != nullptr) {
    const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(ev);
    size_t n = 0;
    const rd_kafka_ConfigResource_t** rs =
        result ? rd_kafka_DescribeConfigs_result_resources(result, &n) : nullptr;
    if (n != 1 || rd_kafka_ConfigResource_error(rs[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure =
          n == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : rd_kafka_event_error_string(ev);
    } else {
      size_t count = 0;
      const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[0], &count);
      for (size_t i = 0; i < count; ++i)
        if (name == rd_kafka_ConfigEntry_name(entries[i]) && rd_kafka_ConfigEntry_value(entries[i]))
          value = rd_kafka_ConfigEntry_value(entries[i]);
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_ConfigResource_destroy(res);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  if (!failure.empty()) throw std::runtime_error("describe topic " + topic + ": " + failure);
  return value;
}

size_t kcat_consume_as_group(const std::string& group, const std::string& topic) {
  auto r = run_command({"kcat", "-b", test_bootstrap(), "-G", group, topic, "-o", "beginning", "-e",
                        "-q", "-f", "%o\n"});
  if (r.exit_code != 0) throw std::runtime_error("kcat -G failed: " + r.err);
  size_t n = 0;
  for (char c : r.out) n += c == '\n';
  return n;
}

void produce_records(const std::string& topic, const std::vector<RecordToProduce>& records) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", test_bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
  std::string failure;
  rd_kafka_conf_set_opaque(conf, &failure);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      *static_cast<std::string*>(opaque) = rd_kafka_message_errstr(m);
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) throw std::runtime_error(std::string("producer: ") + err);
  for (const auto& r : records) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers)
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    // librdkafka's macros cast their arguments: compute them first.
    const void* key = r.key ? r.key->data() : nullptr;
    size_t key_len = r.key ? r.key->size() : 0;
    void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
    size_t value_len = r.value ? r.value->size() : 0;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(r.partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                          RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_TIMESTAMP(r.timestamp_ms),
                          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);
      rd_kafka_destroy(rk);
      throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(e));
    }
  }
  rd_kafka_resp_err_t e = rd_kafka_flush(rk, 60'000);
  rd_kafka_destroy(rk);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("flush: ") + rd_kafka_err2str(e));
  if (!failure.empty()) throw std::runtime_error("delivery: " + failure);
}

std::string ferry_binary() {
  // Lets a test run against another build (e.g. to show it fails on an older main).
  if (const char* other = std::getenv("FERRY_TEST_OTHER_BINARY"); other && *other) return other;
  return FERRY_TEST_BINARY;
}
std::string test_plugin_dir() {
  // With FERRY_TEST_OTHER_BINARY: that build's test plugins (sanitizer runtimes differ).
  if (const char* other = std::getenv("FERRY_TEST_OTHER_PLUGIN_DIR"); other && *other) return other;
  return FERRY_TEST_PLUGIN_DIR;
}
std::string source_dir() {
  return FERRY_SOURCE_DIR;
}

}  // namespace ferry::test
