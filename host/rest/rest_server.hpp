// ferry's REST API: an HTTP server on [rest] listen, in its own threads. Routes are
// registered by the parts of ferry that own the data (spans here; connectors, metrics
// and health in the operations work), so this file knows only HTTP: binding, the
// optional bearer token, JSON replies and error bodies shaped like Kafka Connect's
// ({"error_code": 404, "message": "..."}). Every request is untrusted: limits on body,
// nesting, time and connections, a Host/Origin check and the token come before routes
// (docs/security.md).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
}

namespace ferry::rest {

class ConnectionGuard;

struct RestSettings {
  std::string listen = "127.0.0.1:8083";     // "host:port"; port 0 = any free port
  std::string token;                         // required as "Authorization: Bearer <token>"
  std::vector<std::string> allowed_hosts;    // empty: default_allowed_hosts(listen)
  std::vector<std::string> allowed_origins;  // beyond the allowed hosts' own origins
  size_t max_body_bytes = 1 << 20;
  size_t max_connections = 32;
  std::chrono::milliseconds request_timeout{10'000};
  std::string tls_cert_file;  // both set: HTTPS
  std::string tls_key_file;
};

struct Request {
  std::map<std::string, std::string> params;  // query parameters
  std::vector<std::string> captures;          // path regex groups
  std::string body;

  std::string param(const std::string& name, std::string fallback = {}) const {
    auto it = params.find(name);
    return it == params.end() ? fallback : it->second;
  }
};

struct Reply {
  int status = 200;
  nlohmann::json body;  // not sent with 204
  std::string content_type = "application/json";
  std::string text;  // sent instead of body when content_type is not JSON
  Reply() = default;
  Reply(int s, nlohmann::json b) : status(s), body(std::move(b)) {}
  static Reply error(int status, std::string message) {
    Reply r;
    r.status = status;
    r.body = {{"error_code", status}, {"message", std::move(message)}};
    return r;
  }
};

class RestServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  RestServer();
  ~RestServer();
  RestServer(const RestServer&) = delete;
  RestServer& operator=(const RestServer&) = delete;

  // `pattern` is a regex over the path, e.g. R"(/spans/([^/]+))".
  void get(const std::string& pattern, Handler handler);
  void put(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  void del(const std::string& pattern, Handler handler);

  // Binds settings.listen without sharing the port with any other process and serves
  // in the background. Routes must be registered before.
  bool start(const RestSettings& settings, std::string& error);
  void stop();
  int port() const { return port_; }

 private:
  enum class Method { kGet, kPut, kPost, kDelete };
  struct Route {
    Method method;
    std::string pattern;
    Handler handler;
  };
  void install(httplib::Server& server, const Route& route);
  void install_guards(const RestSettings& settings);

  std::vector<Route> routes_;
  std::unique_ptr<ConnectionGuard> guard_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ferry::rest
