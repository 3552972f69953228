// The real Transport: HTTPS/1.1 through libcurl (the only code that includes it). The server's
// certificate is always verified against Config::ca_pem (or the system's CAs when it is empty),
// host name or IP address included. Each exchange opens its own connection.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/kube/config.h"
#include "common/kube/transport.h"

namespace weave::kube {

class CurlTransport : public Transport {
 public:
  // Uses server, ca_pem, client_cert_pem/client_key_pem and connect_timeout of `config` (the
  // token is the Client's business). InvalidArgument for a server that is not https://.
  static absl::StatusOr<std::unique_ptr<CurlTransport>> Create(const Config& config);

  const std::string& server() const override { return server_; }
  absl::StatusOr<Response> RoundTrip(const Request& request, const BodySink& sink,
                                     const absl::Notification* cancel) override;

  // Bodies larger than this are refused (Unavailable); streamed bodies are not limited here.
  static constexpr size_t kMaxBodySize = 256 << 20;

 private:
  CurlTransport(const Config& config);

  const std::string server_;
  const std::string ca_pem_;
  const std::string client_cert_pem_;
  const std::string client_key_pem_;
  const absl::Duration connect_timeout_;
};

}  // namespace weave::kube
