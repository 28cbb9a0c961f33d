// One connection to an MQTT broker: TCP, or TLS over it with OpenSSL. The socket is
// nonblocking so the network thread can wait on it and on its wake-up together, and a
// read takes whatever the kernel holds (many MQTT packets per system call).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

using SSL = struct ssl_st;
using SSL_CTX = struct ssl_ctx_st;

namespace ferry::sensors {

struct TlsFiles {
  std::string ca_file;  // empty: the system's CAs
  std::string cert_file, key_file;
  bool insecure = false;  // do not check the broker's host name
};

struct SslCtxFree {
  void operator()(SSL_CTX* c) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
struct SslFree {
  void operator()(SSL* s) const;
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// Loads the CA, certificate and key once, so bad files are a configuration error at
// start rather than a retry loop. Empty string on success.
std::string make_tls_context(const TlsFiles& files, SslCtxPtr& out);

class MqttTransport {
 public:
  MqttTransport() = default;
  ~MqttTransport();
  MqttTransport(const MqttTransport&) = delete;
  MqttTransport& operator=(const MqttTransport&) = delete;

  using Deadline = std::chrono::steady_clock::time_point;

  // TCP connect to the first address of `host` that answers, then the TLS handshake
  // when `tls` is set. Empty string on success.
  std::string open(const std::string& host, int port, SSL_CTX* tls, bool check_host_name,
                   Deadline deadline);
  void close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // > 0: bytes read; 0: nothing available now; -1: closed or failed (see error()).
  ssize_t read_some(char* buf, size_t n);
  // TLS may hold decrypted bytes the socket no longer signals.
  bool has_buffered() const;
  // Writes all of `data`, waiting for the socket up to `deadline`. False on failure.
  bool write_all(std::string_view data, Deadline deadline);
  const std::string& error() const { return error_; }

 private:
  bool wait(short events, Deadline deadline);
  bool tls_step(int rc, Deadline deadline, const char* what);

  int fd_ = -1;
  SslPtr ssl_;
  std::string error_;
};

}  // namespace ferry::sensors
