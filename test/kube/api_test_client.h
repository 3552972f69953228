// A plain HTTPS client for the fake API server's tests: httplib with the test CA (so the server
// certificate is verified, address included) and the bearer token. Not a Kubernetes client:
// tests use it to see exactly what goes over the wire.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Client;
}

namespace weave::testing::kube {

struct ApiAnswer {
  int code = 0;  // 0: no answer (connection failed or dropped)
  std::string text;
  nlohmann::json body;  // the parsed text; discarded (is_discarded()) when it is not JSON
};

class ApiTestClient {
 public:
  // `token` "" sends no Authorization header.
  ApiTestClient(const std::string& url, const std::string& ca_cert_path, const std::string& token);
  ~ApiTestClient();

  ApiAnswer Get(const std::string& path_and_query);
  ApiAnswer Post(const std::string& path, const nlohmann::json& body);
  ApiAnswer Put(const std::string& path, const nlohmann::json& body);
  ApiAnswer Patch(const std::string& path, const nlohmann::json& body,
                  const std::string& content_type = "application/merge-patch+json");
  ApiAnswer Delete(const std::string& path);

 private:
  std::unique_ptr<httplib::Client> client_;
};

// A WATCH read on its own thread: the events as they arrive, one JSON value per line.
class WatchReader {
 public:
  WatchReader(const std::string& url, const std::string& ca_cert_path, const std::string& token,
              const std::string& path_and_query);
  ~WatchReader();  // closes the connection

  std::vector<nlohmann::json> Events() const;
  // Lines that were not JSON (a garbage fault).
  std::vector<std::string> BadLines() const;
  bool Ended() const { return ended_; }
  int code() const { return code_; }
  // Waits until at least `count` events arrived; DeadlineExceeded listing what did.
  absl::Status WaitForEvents(size_t count, absl::Duration timeout) const;
  absl::Status WaitForEnd(absl::Duration timeout) const;

 private:
  void Receive(const char* data, size_t size);

  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::string partial_;
  std::vector<nlohmann::json> events_;
  std::vector<std::string> bad_lines_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> closing_{false};
  std::atomic<int> code_{0};
};

}  // namespace weave::testing::kube
