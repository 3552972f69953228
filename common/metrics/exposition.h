// The Prometheus text exposition format (version 0.0.4) for metric values computed at scrape
// time. No registry: each component turns its current state into families when scraped, so
// metrics can never disagree with status.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace weave::metrics {

enum class Type { kGauge, kCounter };

struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;  // rendered in this order
  double value = 0;
};

struct Family {
  std::string name;
  std::string help;
  Type type = Type::kGauge;
  std::vector<Sample> samples;
};

inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Renders families in order. Label values are escaped (backslash, quote, newline).
std::string RenderText(const std::vector<Family>& families);

}  // namespace weave::metrics
