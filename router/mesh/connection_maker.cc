#include "router/mesh/connection_maker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace weave::mesh {

ConnectionMaker::ConnectionMaker(BackoffOptions options, std::function<double()> jitter)
    : options_(options), jitter_(std::move(jitter)) {}

ConnectionMaker::Target& ConnectionMaker::Get(absl::string_view address) {
  auto [it, inserted] = targets_.try_emplace(std::string(address));
  if (inserted) it->second.interval = options_.initial;
  return it->second;
}

void ConnectionMaker::AddTargets(const std::vector<std::string>& addresses) {
  for (const std::string& address : addresses) {
    Target& target = Get(address);
    if (target.direct) continue;
    target.direct = true;
    direct_order_.push_back(address);
    // `weave connect` to a target that is failing asks for a try now.
    if (target.state == State::kWaiting) target.try_after = absl::InfinitePast();
  }
}

std::vector<std::string> ConnectionMaker::ForgetTargets(
    const std::vector<std::string>& addresses) {
  std::vector<std::string> unknown;
  for (const std::string& address : addresses) {
    auto it = targets_.find(address);
    if (it == targets_.end() || !it->second.direct) {
      unknown.push_back(address);
      continue;
    }
    it->second.direct = false;
    direct_order_.erase(std::find(direct_order_.begin(), direct_order_.end(), address));
    DropIfUnwanted(address);
  }
  return unknown;
}

void ConnectionMaker::SetDiscovered(const std::set<std::string>& addresses) {
  std::vector<std::string> gone;
  for (auto& [address, target] : targets_) {
    if (target.discovered && !addresses.count(address)) {
      target.discovered = false;
      gone.push_back(address);
    }
  }
  for (const std::string& address : gone) DropIfUnwanted(address);
  for (const std::string& address : addresses) Get(address).discovered = true;
}

// A target nobody asks for any more goes, unless a dial or a connection still uses it
// (Failed/Disconnected will drop it then).
void ConnectionMaker::DropIfUnwanted(const std::string& address) {
  auto it = targets_.find(address);
  if (it == targets_.end()) return;
  const Target& target = it->second;
  if (target.direct || target.discovered) return;
  if (target.state == State::kAttempting || target.state == State::kConnected) return;
  targets_.erase(it);
}

std::vector<std::string> ConnectionMaker::Due(absl::Time now, const DialGate& may_dial) {
  std::vector<std::string> due;
  for (auto& [address, target] : targets_) {
    if (target.state != State::kWaiting || target.try_after > now) continue;
    if (!may_dial(address, target.peer)) continue;
    target.state = State::kAttempting;
    target.last_attempt = now;
    due.push_back(address);
  }
  return due;
}

void ConnectionMaker::ScheduleRetry(Target& target, absl::Time now) {
  // Uniform in [interval/2, 3*interval/2), then the interval grows up to the cap.
  target.try_after = now + target.interval / 2 + target.interval * jitter_();
  target.interval = std::min(target.interval * options_.factor, options_.max);
}

void ConnectionMaker::Failed(absl::string_view address, absl::string_view error,
                             absl::Time now) {
  auto it = targets_.find(std::string(address));
  if (it == targets_.end()) return;
  Target& target = it->second;
  if (target.state == State::kNever) return;
  target.state = State::kWaiting;
  target.last_error = std::string(error);
  ScheduleRetry(target, now);
  DropIfUnwanted(it->first);
}

void ConnectionMaker::NeverRetry(absl::string_view address, absl::string_view reason) {
  auto it = targets_.find(std::string(address));
  if (it == targets_.end()) return;
  it->second.state = State::kNever;
  it->second.last_error = std::string(reason);
}

void ConnectionMaker::Connected(absl::string_view address, PeerName peer, absl::Time now) {
  Target& target = Get(address);
  if (target.state == State::kNever) return;
  if (target.state != State::kAttempting) target.last_attempt = now;
  target.state = State::kConnected;
  target.peer = peer;
  target.last_error.clear();
  // Inbound connections from a peer that is not a target make an entry only while they last.
}

void ConnectionMaker::Disconnected(absl::string_view address, absl::string_view reason,
                                   absl::Time now) {
  auto it = targets_.find(std::string(address));
  if (it == targets_.end() || it->second.state != State::kConnected) return;
  Target& target = it->second;
  target.state = State::kWaiting;
  target.last_error = std::string(reason);
  if (now - target.last_attempt > options_.reset_after) {
    // It was up for a while: try again at once, with a fresh back-off.
    target.interval = options_.initial;
    target.try_after = now;
  } else {
    ScheduleRetry(target, now);
  }
  DropIfUnwanted(it->first);
}

absl::Time ConnectionMaker::NextDue() const {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& [address, target] : targets_) {
    if (target.state == State::kWaiting) next = std::min(next, target.try_after);
  }
  return next;
}

std::vector<TargetStatus> ConnectionMaker::Status() const {
  std::vector<TargetStatus> out;
  for (const auto& [address, target] : targets_) {
    switch (target.state) {
      case State::kAttempting:
        out.push_back({address, target.last_error.empty() ? "connecting" : "retrying",
                       target.last_error});
        break;
      case State::kWaiting:
        if (target.last_error.empty()) break;  // not tried yet: about to connect
        out.push_back({address, "failed",
                       absl::StrCat(target.last_error, ", retry: ",
                                    absl::FormatTime("%Y-%m-%d %H:%M:%S", target.try_after,
                                                     absl::LocalTimeZone()))});
        break;
      case State::kConnected:
      case State::kNever:
        break;
    }
  }
  return out;
}

}  // namespace weave::mesh
