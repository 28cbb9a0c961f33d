// A client for ferry's REST API as Connect tooling uses it: plain HTTP with JSON
// bodies, the status code and the parsed body of every reply.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace ferry::test {

struct RestReply {
  int status = 0;  // 0: no connection
  nlohmann::json body;
  std::string text;
};

class RestClient {
 public:
  // `address` is "host:port" (state/rest.address).
  explicit RestClient(const std::string& address, std::string token = "")
      : client_(std::make_unique<httplib::Client>("http://" + address)), token_(std::move(token)) {
    client_->set_connection_timeout(5);
    client_->set_read_timeout(60);
  }

  RestReply get(const std::string& path) { return wrap(client_->Get(path, headers())); }
  RestReply put(const std::string& path, const std::string& body = "") {
    return wrap(client_->Put(path, headers(), body, "application/json"));
  }
  RestReply post(const std::string& path, const std::string& body = "") {
    return wrap(client_->Post(path, headers(), body, "application/json"));
  }
  RestReply del(const std::string& path) { return wrap(client_->Delete(path, headers())); }

 private:
  httplib::Headers headers() const {
    if (token_.empty()) return {};
    return {{"Authorization", "Bearer " + token_}};
  }
  static RestReply wrap(const httplib::Result& r) {
    RestReply out;
    if (!r) return out;
    out.status = r->status;
    out.text = r->body;
    out.body = nlohmann::json::parse(r->body, nullptr, false);
    return out;
  }

  std::unique_ptr<httplib::Client> client_;
  std::string token_;
};

}  // namespace ferry::test
