#include "rest/rest_server.hpp"

#include <httplib.h>

#include "common/logging.hpp"

namespace ferry::rest {

RestServer::RestServer() : server_(std::make_unique<httplib::Server>()) {}

RestServer::~RestServer() {
  stop();
}

void RestServer::get(const std::string& pattern, Handler handler) {
  server_->Get(pattern,
               [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
                 Request r;
                 for (const auto& [k, v] : req.params) r.params[k] = v;
                 for (size_t i = 1; i < req.matches.size(); ++i)
                   r.captures.push_back(req.matches[i]);
                 Reply reply;
                 try {
                   reply = h(r);
                 } catch (const std::exception& e) {
                   reply = Reply::error(500, e.what());
                 }
                 res.status = reply.status;
                 res.set_content(reply.body.dump(), "application/json");
               });
}

bool RestServer::start(const std::string& listen, const std::string& token, std::string& error) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    error = "[rest] listen must be HOST:PORT, not \"" + listen + "\"";
    return false;
  }
  std::string host = listen.substr(0, colon);
  int port = std::atoi(listen.c_str() + colon + 1);
  if (!token.empty()) {
    server_->set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") == "Bearer " + token)
        return httplib::Server::HandlerResponse::Unhandled;
      res.status = 401;
      res.set_content(R"({"error_code":401,"message":"missing or wrong bearer token"})",
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_content(
        nlohmann::json{{"error_code", res.status}, {"message", "no such resource: " + req.path}}
            .dump(),
        "application/json");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ <= 0) {
    error = "cannot listen on " + listen + " for the REST API (address in use?)";
    return false;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  logging::get("rest")->info("REST API on http://{}:{}", host, port_);
  return true;
}

void RestServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace ferry::rest
