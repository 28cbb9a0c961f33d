// ferry's REST API: an HTTP server on [rest] listen, in its own threads. Routes are
// registered by the parts of ferry that own the data (spans here; connectors, metrics
// and health in the operations work), so this file knows only HTTP: binding, the
// optional bearer token, JSON replies and error bodies shaped like Kafka Connect's
// ({"error_code": 404, "message": "..."}).
#pragma once

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

struct Request {
  std::map<std::string, std::string> params;  // query parameters
  std::vector<std::string> captures;          // path regex groups
};

struct Reply {
  int status = 200;
  nlohmann::json body;
  static Reply error(int status, std::string message) {
    return {status, {{"error_code", status}, {"message", std::move(message)}}};
  }
};

class RestServer {
 public:
  using Handler = std::function<Reply(const Request&)>;

  RestServer();
  ~RestServer();

  // `pattern` is a regex over the path, e.g. R"(/spans/([^/]+))".
  void get(const std::string& pattern, Handler handler);

  // Binds "host:port" (port 0 = any free port) and serves in the background. The token,
  // when not empty, is required as "Authorization: Bearer <token>".
  bool start(const std::string& listen, const std::string& token, std::string& error);
  void stop();
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ferry::rest
