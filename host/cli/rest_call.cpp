#include "cli/rest_call.hpp"

#include <fstream>
#include <iostream>

#include <httplib.h>

namespace ferry::cli {

std::string first_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string rest_url(const config::WorkerConfig& w) {
  std::string listen = w.rest.str("listen");
  if (listen.ends_with(":0")) listen = first_line(w.state_dir / "rest.address");
  if (listen.rfind("0.0.0.0:", 0) == 0) listen = "127.0.0.1:" + listen.substr(8);
  if (listen.rfind("[::]:", 0) == 0) listen = "[::1]:" + listen.substr(5);
  if (listen.empty()) return "";
  return (w.rest.has("tls_cert_file") ? "https://" : "http://") + listen;
}

int rest_call(const config::WorkerConfig& w, const std::string& url_flag, const std::string& method,
              const std::string& path, nlohmann::json& out) {
  std::string url = url_flag.empty() ? rest_url(w) : url_flag;
  if (url.empty()) {
    std::cerr << "ferry: no REST address (is ferry running with this worker file?)\n";
    return 2;
  }
  httplib::Client client(url);
  // Over TLS the server must prove it holds the configured certificate (which then has
  // to name the address, e.g. an IP SAN 127.0.0.1): the token goes only to it.
  if (w.rest.has("tls_cert_file")) {
    client.set_ca_cert_path(w.rest.str("tls_cert_file").c_str());
    client.enable_server_certificate_verification(true);
  }
  client.set_connection_timeout(5);
  client.set_read_timeout(120);  // stopping or restarting tasks drains them first
  httplib::Headers headers;
  if (w.rest.has("token_file"))
    headers.emplace("Authorization", "Bearer " + first_line(w.rest.str("token_file")));
  httplib::Result res = method == "PUT"    ? client.Put(path, headers, "", "application/json")
                        : method == "POST" ? client.Post(path, headers, "", "application/json")
                                           : client.Get(path, headers);
  if (!res) {
    std::cerr << "ferry: cannot reach " << url << ": " << httplib::to_string(res.error()) << "\n";
    return 2;
  }
  out = res->body.empty() ? nlohmann::json() : nlohmann::json::parse(res->body, nullptr, false);
  if (res->status / 100 != 2) {
    std::cerr << "ferry: " << (out.is_object() ? out.value("message", res->body) : res->body)
              << "\n";
    return res->status == 404 || res->status == 400 ? 1 : 2;
  }
  return 0;
}

}  // namespace ferry::cli
