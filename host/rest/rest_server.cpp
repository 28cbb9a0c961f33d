#include "rest/rest_server.hpp"

#include <httplib.h>

#include "common/logging.hpp"
#include "common/secrets.hpp"

namespace ferry::rest {

RestServer::RestServer() : server_(std::make_unique<httplib::Server>()) {}

RestServer::~RestServer() {
  stop();
}

void RestServer::get(const std::string& pattern, Handler handler) {
  route(Method::kGet, pattern, std::move(handler));
}
void RestServer::put(const std::string& pattern, Handler handler) {
  route(Method::kPut, pattern, std::move(handler));
}
void RestServer::post(const std::string& pattern, Handler handler) {
  route(Method::kPost, pattern, std::move(handler));
}
void RestServer::del(const std::string& pattern, Handler handler) {
  route(Method::kDelete, pattern, std::move(handler));
}

void RestServer::route(Method method, const std::string& pattern, Handler handler) {
  auto adapter = [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
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
    std::string body =
        reply.content_type == "application/json"
            ? reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            : reply.text;
    res.set_content(secrets::scrub(body), reply.content_type.c_str());
  };
  switch (method) {
    case Method::kGet:
      server_->Get(pattern, std::move(adapter));
      break;
    case Method::kPut:
      server_->Put(pattern, std::move(adapter));
      break;
    case Method::kPost:
      server_->Post(pattern, std::move(adapter));
      break;
    case Method::kDelete:
      server_->Delete(pattern, std::move(adapter));
      break;
  }
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
