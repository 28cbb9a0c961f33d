#include "rest/rest_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>

#include "common/logging.hpp"
#include "common/secrets.hpp"
#include "rest/connection_guard.hpp"
#include "rest/json_body.hpp"
#include "rest/request_guard.hpp"

namespace ferry::rest {
namespace {

using nlohmann::json;

void reply_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error_code", status}, {"message", message}}.dump(), "application/json");
}

// Every string in a reply (keys too) without any remembered secret. Done on the values
// before they are escaped into JSON text, so a secret holding a quote, a backslash or a
// newline is found as the operator wrote it.
json scrubbed(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return secrets::scrub(value.get_ref<const std::string&>());
    case json::value_t::array: {
      json out = json::array();
      for (const auto& v : value) out.push_back(scrubbed(v));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [k, v] : value.items()) out[secrets::scrub(k)] = scrubbed(v);
      return out;
    }
    default:
      return value;
  }
}

// httplib's pool, admitting each connection through the guard first.
class GuardedQueue : public httplib::TaskQueue {
 public:
  GuardedQueue(ConnectionGuard& guard, size_t threads) : guard_(guard), pool_(threads) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(guard_.admit(std::move(fn))); }
  void shutdown() override { pool_.shutdown(); }

 private:
  ConnectionGuard& guard_;
  httplib::ThreadPool pool_;
};

bool changes_state(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

struct PreRouteChecks {
  std::vector<std::string> hosts, origins;
  std::string token;
  size_t max_body = 0;
};

// The checks before any route, in order; true when `res` holds the refusal.
bool pre_route(const PreRouteChecks& c, const httplib::Request& req, httplib::Response& res) {
  if (!host_allowed(req.get_header_value("Host"), c.hosts)) {
    reply_error(res, 421,
                "this API does not answer to the host name in the Host header (allowed: "
                "[rest] allowed_hosts)");
    return true;
  }
  if (changes_state(req.method) && req.has_header("Origin") &&
      !origin_allowed(req.get_header_value("Origin"), c.hosts, c.origins)) {
    reply_error(res, 403, "requests from this Origin may not change anything");
    return true;
  }
  if (!c.token.empty() && !bearer_matches(req.get_header_value("Authorization"), c.token)) {
    reply_error(res, 401, "missing or wrong bearer token");
    return true;
  }
  // Refused from the header: httplib itself would first read (and discard) the whole
  // declared body.
  if (const auto length = req.get_header_value("Content-Length"); !length.empty()) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (ec != std::errc() || end != length.data() + length.size() || n > c.max_body) {
      reply_error(res, 413, "the request body is larger than [rest] max_body_bytes");
      return true;
    }
  }
  return false;
}

}  // namespace

RestServer::RestServer() = default;

RestServer::~RestServer() {
  stop();
}

void RestServer::get(const std::string& pattern, Handler handler) {
  routes_.push_back({Method::kGet, pattern, std::move(handler)});
}
void RestServer::put(const std::string& pattern, Handler handler) {
  routes_.push_back({Method::kPut, pattern, std::move(handler)});
}
void RestServer::post(const std::string& pattern, Handler handler) {
  routes_.push_back({Method::kPost, pattern, std::move(handler)});
}
void RestServer::del(const std::string& pattern, Handler handler) {
  routes_.push_back({Method::kDelete, pattern, std::move(handler)});
}

void RestServer::install(httplib::Server& server, const Route& route) {
  auto adapter = [h = route.handler](const httplib::Request& req, httplib::Response& res) {
    ConnectionGuard::handler_started();
    if (json_nested_deeper_than(req.body, kMaxJsonDepth))
      return reply_error(res, 400, "the body nests JSON deeper than 64 levels");
    Request r;
    // A repeated parameter (?expand=status&expand=info) arrives joined by commas.
    for (const auto& [k, v] : req.params) {
      auto [it, fresh] = r.params.emplace(k, v);
      if (!fresh) it->second += "," + v;
    }
    for (size_t i = 1; i < req.matches.size(); ++i) r.captures.push_back(req.matches[i]);
    r.body = req.body;
    Reply reply;
    try {
      reply = h(r);
    } catch (const std::exception& e) {
      reply = Reply::error(500, e.what());
    }
    res.status = reply.status;
    if (reply.status == 204) return;
    // Whatever a handler put together (an error quoting a value, a plugin's message),
    // no secret leaves through the API.
    if (reply.content_type == "application/json") {
      res.set_content(scrubbed(reply.body).dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
    } else {
      res.set_content(secrets::scrub(reply.text), reply.content_type.c_str());
    }
  };
  switch (route.method) {
    case Method::kGet:
      server.Get(route.pattern, std::move(adapter));
      break;
    case Method::kPut:
      server.Put(route.pattern, std::move(adapter));
      break;
    case Method::kPost:
      server.Post(route.pattern, std::move(adapter));
      break;
    case Method::kDelete:
      server.Delete(route.pattern, std::move(adapter));
      break;
  }
}

void RestServer::install_guards(const RestSettings& settings) {
  std::vector<std::string> hosts = settings.allowed_hosts.empty()
                                       ? default_allowed_hosts(settings.listen)
                                       : settings.allowed_hosts;
  PreRouteChecks checks{std::move(hosts), settings.allowed_origins, settings.token,
                        settings.max_body_bytes};
  server_->set_pre_routing_handler(
      [checks = std::move(checks)](const httplib::Request& req, httplib::Response& res) {
        if (!pre_route(checks, req, res)) return httplib::Server::HandlerResponse::Unhandled;
        // A refused request's body is never read: its bytes must not be taken for the
        // next request on the connection.
        if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
          res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      });
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 413
                              ? "the request body is larger than [rest] max_body_bytes"
                              : "no such resource: " + req.path;
    reply_error(res, res.status, message);
  });
  // Runs on the serving thread after each reply: the next request's clock starts.
  server_->set_logger(
      [](const httplib::Request&, const httplib::Response&) { ConnectionGuard::reply_sent(); });
  server_->set_payload_max_length(settings.max_body_bytes);
  auto seconds = static_cast<time_t>(std::max<int64_t>(1, settings.request_timeout.count() / 1000));
  server_->set_read_timeout(seconds, 0);
  server_->set_write_timeout(seconds, 0);
  server_->set_keep_alive_timeout(std::min<time_t>(seconds, 5));
  // httplib's default also sets SO_REUSEPORT, which lets a second process bind the same
  // port and take part of the API's traffic.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  ConnectionLimits limits;
  limits.max_connections = settings.max_connections;
  limits.request_timeout = settings.request_timeout;
  limits.max_request_bytes = settings.max_body_bytes + 64 * 1024;
  guard_ = std::make_unique<ConnectionGuard>(limits);
  // One thread per admitted connection plus a spare for refusing the next, so a slow
  // client never queues a fast one behind it.
  size_t threads = settings.max_connections + 1;
  server_->new_task_queue = [this, threads] { return new GuardedQueue(*guard_, threads); };
}

bool RestServer::start(const RestSettings& settings, std::string& error) {
  auto colon = settings.listen.rfind(':');
  if (colon == std::string::npos) {
    error = "[rest] listen must be HOST:PORT, not \"" + settings.listen + "\"";
    return false;
  }
  std::string host = settings.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = std::atoi(settings.listen.c_str() + colon + 1);
  bool tls = !settings.tls_cert_file.empty() || !settings.tls_key_file.empty();
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(settings.tls_cert_file.c_str(),
                                                    settings.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      error = "[rest] tls_cert_file / tls_key_file: cannot load a certificate and key from " +
              settings.tls_cert_file + " and " + settings.tls_key_file;
      return false;
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  for (const auto& r : routes_) install(*server_, r);
  install_guards(settings);
  port_ =
      port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    error = "cannot listen on " + settings.listen + " for the REST API (address in use?)";
    return false;
  }
  guard_->set_port(port_);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  logging::get("rest")->info("REST API on {}://{}:{}", tls ? "https" : "http", host, port_);
  return true;
}

void RestServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace ferry::rest
