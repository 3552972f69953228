#include "ipam/init_mode.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace weave::ipam {

std::string InitMode::ToString() const {
  switch (kind) {
    case Kind::kConsensus:
      return absl::StrCat("consensus=", consensus_size);
    case Kind::kSeed:
      return absl::StrCat("seed=", absl::StrJoin(seed, ",", [](std::string* out, PeerName p) {
                            out->append(p.ToString());
                          }));
    case Kind::kObserver:
      return "observer";
  }
  return "";
}

absl::StatusOr<InitMode> ParseInitMode(absl::string_view text) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": ", why));
  };
  InitMode mode;
  if (text.empty() || text == "consensus") return mode;
  if (text == "observer") {
    mode.kind = InitMode::Kind::kObserver;
    return mode;
  }
  if (absl::ConsumePrefix(&text, "consensus=")) {
    if (!absl::SimpleAtoi(text, &mode.consensus_size) || mode.consensus_size < 1 ||
        !absl::ascii_isdigit(text[0])) {
      return invalid("the consensus size must be a whole number, 1 or more");
    }
    return mode;
  }
  if (absl::ConsumePrefix(&text, "seed=")) {
    mode.kind = InitMode::Kind::kSeed;
    for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
      absl::StatusOr<PeerName> name = PeerName::Parse(item);
      if (!name.ok()) return name.status();
      mode.seed.push_back(*name);
    }
    if (mode.seed.empty()) return invalid("seed= needs at least one peer name");
    return mode;
  }
  return invalid(absl::StrCat("expected ", kInitModeForms));
}

}  // namespace weave::ipam
