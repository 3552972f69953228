#include "common/log.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace weave {
namespace {

// The original printed the first four letters of the upper-cased level name.
class LevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    absl::string_view text;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        text = "DEBU";
        break;
      case spdlog::level::info:
        text = "INFO";
        break;
      case spdlog::level::warn:
        text = "WARN";
        break;
      case spdlog::level::err:
        text = "ERRO";
        break;
      default:
        text = "FATA";
        break;
    }
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelFlag>();
  }
};

}  // namespace

absl::Status InitLogging(absl::string_view level) {
  spdlog::level::level_enum parsed;
  if (level == "debug") {
    parsed = spdlog::level::debug;
  } else if (level == "info") {
    parsed = spdlog::level::info;
  } else if (level == "warning" || level == "warn") {
    parsed = spdlog::level::warn;
  } else if (level == "error") {
    parsed = spdlog::level::err;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid --log-level \"", level, "\": expected debug, info, warning or error"));
  }
  auto logger = std::make_shared<spdlog::logger>(
      "weave", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<LevelFlag>('*').set_pattern(std::string(kLogPattern.data(), kLogPattern.size()));
  logger->set_formatter(std::move(formatter));
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

}  // namespace weave
