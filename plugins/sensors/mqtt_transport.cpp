#include "mqtt_transport.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ferry::sensors {
namespace {

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

void SslCtxFree::operator()(SSL_CTX* c) const {
  SSL_CTX_free(c);
}
void SslFree::operator()(SSL* s) const {
  SSL_free(s);
}

std::string make_tls_context(const TlsFiles& files, SslCtxPtr& out) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return "cannot create a TLS context: " + openssl_errors();
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (files.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
      return "cannot load the system's CA certificates: " + openssl_errors();
  } else if (SSL_CTX_load_verify_locations(ctx.get(), files.ca_file.c_str(), nullptr) != 1) {
    return "tls_ca " + files.ca_file + ": " + openssl_errors();
  }
  if (!files.cert_file.empty() &&
      SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1)
    return "tls_cert " + files.cert_file + ": " + openssl_errors();
  if (!files.key_file.empty()) {
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return "tls_key " + files.key_file + ": " + openssl_errors();
    if (SSL_CTX_check_private_key(ctx.get()) != 1)
      return "tls_key does not match tls_cert: " + openssl_errors();
  }
  out = std::move(ctx);
  return {};
}

MqttTransport::~MqttTransport() {
  close();
}

void MqttTransport::close() {
  ssl_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool MqttTransport::wait(short events, Deadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      error_ = "timed out";
      return false;
    }
    pollfd p{fd_, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) {
      error_ = std::strerror(errno);
      return false;
    }
  }
}

bool MqttTransport::tls_step(int rc, Deadline deadline, const char* what) {
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ) return wait(POLLIN, deadline);
  if (err == SSL_ERROR_WANT_WRITE) return wait(POLLOUT, deadline);
  std::string detail = openssl_errors();
  if (err == SSL_ERROR_SYSCALL && detail.empty())
    detail = errno != 0 ? std::strerror(errno) : "the broker closed the connection";
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify != X509_V_OK)
    detail += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  error_ = std::string(what) + ": " + detail;
  return false;
}

std::string MqttTransport::open(const std::string& host, int port, SSL_CTX* tls,
                                bool check_host_name, Deadline deadline) {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return "cannot resolve " + host + ": " + gai_strerror(rc);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    fd_ = fd;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = std::strerror(errno);
        close();
        continue;
      }
      if (!wait(POLLOUT, deadline)) {
        last = error_;
        close();
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0) {
        last = std::strerror(so_error);
        close();
        continue;
      }
    }
    break;
  }
  if (fd_ < 0) return "cannot connect to " + host + ":" + service + ": " + last;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tls == nullptr) return {};

  ssl_.reset(SSL_new(tls));
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd_) != 1) return "TLS: " + openssl_errors();
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!is_ip_literal(host)) SSL_set_tlsext_host_name(ssl_.get(), host.c_str());
  if (check_host_name) {
    // An IP literal must match the certificate's IP entries, a name its DNS entries.
    if (is_ip_literal(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), host.c_str());
    } else {
      SSL_set1_host(ssl_.get(), host.c_str());
    }
  }
  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(ssl_.get());
    if (rc == 1) return {};
    if (!tls_step(rc, deadline, "TLS handshake")) {
      std::string e = error_;
      close();
      return "TLS handshake with " + host + ":" + service +
             " failed: " + e.substr(std::strlen("TLS handshake: "));
    }
  }
}

ssize_t MqttTransport::read_some(char* buf, size_t n) {
  if (!ssl_) {
    ssize_t got = ::recv(fd_, buf, n, 0);
    if (got > 0) return got;
    if (got == 0) {
      error_ = "the broker closed the connection";
      return -1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    error_ = std::strerror(errno);
    return -1;
  }
  size_t got = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_.get(), buf, n, &got) == 1) return static_cast<ssize_t>(got);
  int err = SSL_get_error(ssl_.get(), 0);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  if (err == SSL_ERROR_ZERO_RETURN) {
    error_ = "the broker closed the connection";
    return -1;
  }
  std::string detail = openssl_errors();
  if (detail.empty())
    detail = errno != 0 ? std::strerror(errno) : "the broker closed the connection";
  error_ = "TLS read: " + detail;
  return -1;
}

bool MqttTransport::has_buffered() const {
  return ssl_ && SSL_pending(ssl_.get()) > 0;
}

bool MqttTransport::write_all(std::string_view data, Deadline deadline) {
  size_t done = 0;
  while (done < data.size()) {
    if (!ssl_) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT, deadline)) return false;
      } else if (n < 0 && errno != EINTR) {
        error_ = std::strerror(errno);
        return false;
      }
      continue;
    }
    size_t n = 0;
    ERR_clear_error();
    int rc = SSL_write_ex(ssl_.get(), data.data() + done, data.size() - done, &n);
    if (rc == 1) {
      done += n;
    } else if (!tls_step(rc, deadline, "TLS write")) {
      return false;
    }
  }
  return true;
}

}  // namespace ferry::sensors
