#include "router/version_check.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace weave::router {
namespace {

std::vector<int> Parts(absl::string_view version) {
  absl::ConsumePrefix(&version, "v");
  version = version.substr(0, version.find_first_of("-+"));
  std::vector<int> parts;
  for (absl::string_view part : absl::StrSplit(version, '.')) {
    int value = 0;
    if (!absl::SimpleAtoi(part, &value)) value = 0;
    parts.push_back(value);
  }
  return parts;
}

}  // namespace

absl::StatusOr<std::string> ParseCheckpointAnswer(absl::string_view body) {
  nlohmann::json answer = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded() || !answer.is_object()) {
    return absl::InvalidArgumentError("the checkpoint answer is not a JSON object");
  }
  auto version = answer.find("current_version");
  if (version == answer.end() || !version->is_string() || version->get<std::string>().empty()) {
    return absl::InvalidArgumentError("the checkpoint answer has no \"current_version\"");
  }
  return version->get<std::string>();
}

bool IsNewerVersion(absl::string_view latest, absl::string_view current) {
  std::vector<int> a = Parts(latest);
  std::vector<int> b = Parts(current);
  a.resize(std::max(a.size(), b.size()));
  b.resize(a.size());
  return a > b;
}

VersionChecker::VersionChecker(std::string url, std::string current, absl::Duration interval,
                               Fetch fetch)
    : url_(std::move(url)), current_(std::move(current)), interval_(interval),
      fetch_(std::move(fetch)) {
  status_.set_enabled(true);
  status_.set_next_check_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  thread_ = std::thread([this] { Run(); });
}

VersionChecker::~VersionChecker() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

v1::VersionCheck VersionChecker::Status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void VersionChecker::Run() {
  while (true) {
    absl::StatusOr<std::string> answer = fetch_(url_);
    absl::StatusOr<std::string> latest =
        answer.ok() ? ParseCheckpointAnswer(*answer) : answer.status();
    std::unique_lock lock(mu_);
    if (stopping_) return;
    status_.set_success(latest.ok());
    status_.clear_new_version();
    if (!latest.ok()) {
      spdlog::warn("Version check failed: {}", latest.status().message());
    } else if (IsNewerVersion(*latest, current_)) {
      status_.set_new_version(*latest);
      spdlog::info("Weave Net version {} is available (this is {})", *latest, current_);
    }
    status_.set_next_check_unix_seconds(absl::ToUnixSeconds(absl::Now() + interval_));
    if (stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [&] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace weave::router
