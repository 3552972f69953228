// Which data path one peer link uses: the kernel's VXLAN (fastdp) when it works, else the
// user-space sleeve, never neither silently. Pure: time comes in as arguments; the overlay
// (overlay.h) feeds heartbeats and acknowledgements in and applies the decisions.
//
// An overlay works for a link when, within `timeout`, the peer acknowledged one of our
// heartbeats over it (our direction works) and we heard one of its heartbeats (its direction
// works). Both ends see the same two facts, so they reach the same decision; a Switched
// notice from the peer (PeerSwitched) makes the other end follow at once instead of at its next
// evaluation.
//
//   new link ──fastdp works──────────────────────────▶ fastdp
//      │                                                 │ fastdp stops working
//      └─ sleeve works, fastdp not allowed or not ─▶ sleeve ◀┘  (reason logged, retry timer)
//         working within `fastdp_wait`                  │ fastdp works again at a retry
//                                                       ▼ (every `retry`) or peer switched
//                                                     fastdp
//
// Not thread-safe: the overlay locks it.
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"

namespace weave::overlay {

enum class Mode { kNone, kFastdp, kSleeve };

// "fastdp", "sleeve" or "" for none.
const char* ModeName(Mode mode);

struct SwitchOptions {
  // Heartbeats go out this often on every overlay of a link.
  absl::Duration heartbeat = absl::Seconds(1);
  // An overlay without an acknowledged heartbeat both ways for this long does not work.
  absl::Duration timeout = absl::Seconds(5);
  // A new link waits this long for fastdp before settling for sleeve.
  absl::Duration fastdp_wait = absl::Seconds(3);
  // After a fallback, fastdp is tried again this often (`--fastdp-retry`).
  absl::Duration retry = absl::Seconds(30);
};

// What one overlay of a link has seen lately.
class Health {
 public:
  void Acked(absl::Time now) { acked_ = now; }
  void Heard(absl::Time now) { heard_ = now; }
  bool Works(absl::Time now, absl::Duration timeout) const;
  // Why it does not work, e.g. "no heartbeat acknowledged by the peer for 5s"; "" when it does.
  std::string Problem(absl::Time now, absl::Duration timeout) const;

 private:
  std::optional<absl::Time> acked_;  // the peer acknowledged our heartbeat
  std::optional<absl::Time> heard_;  // we received the peer's heartbeat
};

struct Decision {
  Mode mode = Mode::kNone;
  bool changed = false;
  // For a change: why, e.g. "fastdp stopped working: no heartbeat acknowledged by the peer for
  // 5s; using sleeve, retrying fastdp every 30s".
  std::string reason;
};

class LinkSwitch {
 public:
  // `fastdp_refusal` is why fastdp may not be used on this link ("" when it may), e.g.
  // "the link is encrypted".
  LinkSwitch(SwitchOptions options, std::string fastdp_refusal, absl::Time now);

  Health& fastdp() { return fastdp_; }
  Health& sleeve() { return sleeve_; }
  bool fastdp_allowed() const { return fastdp_refusal_.empty(); }

  // The peer announced that it switched to `mode`. The link follows when that mode works here.
  void PeerSwitched(Mode mode, absl::Time now);

  // Re-evaluates the link; call after new facts and periodically (at least every heartbeat).
  Decision Evaluate(absl::Time now);

  Mode mode() const { return mode_; }
  // Why the link is not on fastdp ("" when it is or nothing was decided yet).
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  Decision Change(Mode to, std::string reason, absl::Time now);
  bool FastdpWorks(absl::Time now) const;
  bool SleeveWorks(absl::Time now) const;

  const SwitchOptions options_;
  const std::string fastdp_refusal_;
  const absl::Time created_;
  Health fastdp_;
  Health sleeve_;
  Mode mode_ = Mode::kNone;
  std::optional<Mode> peer_mode_;  // what the peer announced, until acted upon
  absl::Time next_retry_ = absl::InfinitePast();
  std::string fallback_reason_;
};

}  // namespace weave::overlay
