#include "common/peer_name.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace weave {
namespace {

bool ParseGroups(absl::string_view text, std::vector<uint64_t>* groups) {
  if (text.empty()) return true;
  for (absl::string_view group : absl::StrSplit(text, ':')) {
    uint64_t value = 0;
    if (group.empty() || group.size() > 2 || !absl::SimpleHexAtoi(group, &value) ||
        group[0] == '+' || group[0] == '-') {
      return false;
    }
    groups->push_back(value);
  }
  return true;
}

}  // namespace

absl::StatusOr<PeerName> PeerName::Parse(absl::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a peer name (expected a MAC address such as 42:8e:e8:c4:52:1b)"));
  };
  std::vector<uint64_t> head;
  std::vector<uint64_t> tail;
  size_t gap = text.find("::");
  if (gap == absl::string_view::npos) {
    if (!ParseGroups(text, &head) || head.size() != 6) return invalid();
  } else {
    if (text.find("::", gap + 1) != absl::string_view::npos ||
        !ParseGroups(text.substr(0, gap), &head) || !ParseGroups(text.substr(gap + 2), &tail) ||
        head.size() + tail.size() > 5) {
      return invalid();
    }
    head.resize(6 - tail.size(), 0);
    head.insert(head.end(), tail.begin(), tail.end());
  }
  uint64_t value = 0;
  for (uint64_t group : head) value = (value << 8) | group;
  return PeerName(value);
}

std::string PeerName::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", (value_ >> 40) & 0xff,
                         (value_ >> 32) & 0xff, (value_ >> 24) & 0xff, (value_ >> 16) & 0xff,
                         (value_ >> 8) & 0xff, value_ & 0xff);
}

}  // namespace weave
