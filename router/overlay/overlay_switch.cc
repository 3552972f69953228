#include "router/overlay/overlay_switch.h"

#include "absl/strings/str_cat.h"

namespace weave::overlay {

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kFastdp:
      return "fastdp";
    case Mode::kSleeve:
      return "sleeve";
    case Mode::kNone:
      break;
  }
  return "";
}

bool Health::Works(absl::Time now, absl::Duration timeout) const {
  return acked_ && heard_ && now - *acked_ <= timeout && now - *heard_ <= timeout;
}

std::string Health::Problem(absl::Time now, absl::Duration timeout) const {
  auto since = [&](const std::optional<absl::Time>& t) {
    return t ? absl::StrCat("for ", absl::FormatDuration(absl::Trunc(now - *t, absl::Seconds(1))))
             : std::string("yet");
  };
  if (!acked_ || now - *acked_ > timeout) {
    return absl::StrCat("no heartbeat acknowledged by the peer ", since(acked_));
  }
  if (!heard_ || now - *heard_ > timeout) {
    return absl::StrCat("no heartbeat received from the peer ", since(heard_));
  }
  return "";
}

LinkSwitch::LinkSwitch(SwitchOptions options, std::string fastdp_refusal, absl::Time now)
    : options_(options), fastdp_refusal_(std::move(fastdp_refusal)), created_(now) {}

void LinkSwitch::PeerSwitched(Mode mode, absl::Time now) { peer_mode_ = mode; }

bool LinkSwitch::FastdpWorks(absl::Time now) const {
  return fastdp_allowed() && fastdp_.Works(now, options_.timeout);
}

bool LinkSwitch::SleeveWorks(absl::Time now) const { return sleeve_.Works(now, options_.timeout); }

Decision LinkSwitch::Change(Mode to, std::string reason, absl::Time now) {
  mode_ = to;
  if (to == Mode::kFastdp) {
    fallback_reason_.clear();
  } else {
    fallback_reason_ = reason;
    next_retry_ = now + options_.retry;
  }
  return {to, true, std::move(reason)};
}

Decision LinkSwitch::Evaluate(absl::Time now) {
  const bool fastdp = FastdpWorks(now);
  const bool sleeve = SleeveWorks(now);
  const std::optional<Mode> peer = peer_mode_;
  peer_mode_.reset();
  const std::string retrying =
      absl::StrCat("; using sleeve, retrying fastdp every ", absl::FormatDuration(options_.retry));
  auto fastdp_problem = [&] {
    return fastdp_allowed() ? fastdp_.Problem(now, options_.timeout) : fastdp_refusal_;
  };

  switch (mode_) {
    case Mode::kNone:
      if (fastdp) return Change(Mode::kFastdp, "fastdp heartbeats acknowledged both ways", now);
      if (!sleeve) return {mode_, false, ""};
      if (!fastdp_allowed()) {
        return Change(Mode::kSleeve, absl::StrCat("fastdp is not used: ", fastdp_refusal_), now);
      }
      if (now - created_ >= options_.fastdp_wait || peer == Mode::kSleeve) {
        return Change(Mode::kSleeve,
                      absl::StrCat("fastdp does not work: ", fastdp_problem(), retrying), now);
      }
      return {mode_, false, ""};

    case Mode::kFastdp:
      if (fastdp) {
        if (peer == Mode::kSleeve && sleeve) {
          return Change(Mode::kSleeve, absl::StrCat("the peer fell back to sleeve", retrying), now);
        }
        return {mode_, false, ""};
      }
      if (sleeve) {
        return Change(Mode::kSleeve,
                      absl::StrCat("fastdp stopped working: ", fastdp_problem(), retrying), now);
      }
      return Change(Mode::kNone,
                    absl::StrCat("no overlay works: fastdp: ", fastdp_problem(),
                                 "; sleeve: ", sleeve_.Problem(now, options_.timeout)),
                    now);

    case Mode::kSleeve:
      if (fastdp && (now >= next_retry_ || peer == Mode::kFastdp || !sleeve)) {
        return Change(Mode::kFastdp, "fastdp works again", now);
      }
      if (!sleeve) {
        return Change(
            Mode::kNone,
            absl::StrCat("no overlay works: sleeve: ", sleeve_.Problem(now, options_.timeout),
                         fastdp_allowed() ? "; fastdp: " : "; ", fastdp_problem()),
            now);
      }
      if (now >= next_retry_) next_retry_ = now + options_.retry;
      return {mode_, false, ""};
  }
  return {mode_, false, ""};
}

}  // namespace weave::overlay
