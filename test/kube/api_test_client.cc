#include "test/kube/api_test_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "httplib.h"
#include "test/harness/wait_for.h"

namespace weave::testing::kube {
namespace {

std::unique_ptr<httplib::Client> NewClient(const std::string& url, const std::string& ca,
                                           const std::string& token) {
  auto client = std::make_unique<httplib::Client>(url);
  client->set_ca_cert_path(ca.c_str());
  client->enable_server_certificate_verification(true);
  if (!token.empty()) client->set_bearer_token_auth(token.c_str());
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(30, 0);
  return client;
}

ApiAnswer ToAnswer(const httplib::Result& result) {
  ApiAnswer answer;
  if (!result) return answer;
  answer.code = result->status;
  answer.text = result->body;
  answer.body = nlohmann::json::parse(answer.text, nullptr, false);
  return answer;
}

}  // namespace

ApiTestClient::ApiTestClient(const std::string& url, const std::string& ca_cert_path,
                             const std::string& token)
    : client_(NewClient(url, ca_cert_path, token)) {}

ApiTestClient::~ApiTestClient() = default;

ApiAnswer ApiTestClient::Get(const std::string& path_and_query) {
  return ToAnswer(client_->Get(path_and_query.c_str()));
}

ApiAnswer ApiTestClient::Post(const std::string& path, const nlohmann::json& body) {
  return ToAnswer(client_->Post(path.c_str(), body.dump(), "application/json"));
}

ApiAnswer ApiTestClient::Put(const std::string& path, const nlohmann::json& body) {
  return ToAnswer(client_->Put(path.c_str(), body.dump(), "application/json"));
}

ApiAnswer ApiTestClient::Patch(const std::string& path, const nlohmann::json& body,
                               const std::string& content_type) {
  return ToAnswer(client_->Patch(path.c_str(), body.dump(), content_type.c_str()));
}

ApiAnswer ApiTestClient::Delete(const std::string& path) {
  return ToAnswer(client_->Delete(path.c_str()));
}

WatchReader::WatchReader(const std::string& url, const std::string& ca_cert_path,
                         const std::string& token, const std::string& path_and_query)
    : client_(NewClient(url, ca_cert_path, token)) {
  client_->set_read_timeout(300, 0);
  thread_ = std::thread([this, path_and_query] {
    httplib::Result result = client_->Get(
        path_and_query.c_str(),
        [this](const httplib::Response& response) {
          code_ = response.status;
          return true;
        },
        [this](const char* data, size_t size) {
          Receive(data, size);
          return !closing_.load();
        });
    ended_ = true;
  });
}

WatchReader::~WatchReader() {
  closing_ = true;
  // stop() only interrupts a request in flight: repeat it in case the thread had not sent it yet.
  WaitFor(
      [&] {
        client_->stop();
        return ended_.load();
      },
      absl::Seconds(10), "the watch reader to stop")
      .IgnoreError();
  if (thread_.joinable()) thread_.join();
}

void WatchReader::Receive(const char* data, size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  partial_.append(data, size);
  size_t newline;
  while ((newline = partial_.find('\n')) != std::string::npos) {
    std::string line = partial_.substr(0, newline);
    partial_.erase(0, newline + 1);
    if (line.empty()) continue;
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded()) {
      bad_lines_.push_back(line);
    } else {
      events_.push_back(std::move(event));
    }
  }
}

std::vector<nlohmann::json> WatchReader::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::vector<std::string> WatchReader::BadLines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bad_lines_;
}

absl::Status WatchReader::WaitForEvents(size_t count, absl::Duration timeout) const {
  absl::Status status = WaitFor([&] { return Events().size() >= count; }, timeout,
                                absl::StrCat(count, " watch events"));
  if (status.ok()) return status;
  std::vector<std::string> seen;
  for (const nlohmann::json& event : Events()) seen.push_back(event.dump());
  return absl::DeadlineExceededError(absl::StrCat(status.message(), "; got (code ", code_.load(),
                                                  ", ended ", ended_.load(), "):\n",
                                                  absl::StrJoin(seen, "\n")));
}

absl::Status WatchReader::WaitForEnd(absl::Duration timeout) const {
  return WaitFor([&] { return ended_.load(); }, timeout, "the watch to end");
}

}  // namespace weave::testing::kube
