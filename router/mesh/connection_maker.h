// Which peer addresses to dial and when: the direct targets (command line, KUBE_PEERS,
// `weave connect`), plus the addresses learned through gossip when discovery is on. Failed
// targets back off (about 2 s, x1.5 per failure, jitter, capped at minutes); a connection that
// stayed up for a while is retried at once when it drops. Pure: time comes in as arguments,
// randomness from the generator given at construction. Not thread-safe (the mesh locks it).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/peer_name.h"

namespace weave::mesh {

struct BackoffOptions {
  absl::Duration initial = absl::Seconds(2);
  double factor = 1.5;
  absl::Duration max = absl::Minutes(6);
  // A connection that drops later than this after its attempt is retried at once.
  absl::Duration reset_after = absl::Minutes(1);
};

// A target as `weave status connections` lists it: connecting, retrying or failed.
struct TargetStatus {
  std::string address;
  std::string state;
  std::string info;
};

class ConnectionMaker {
 public:
  // `jitter` returns a uniform value in [0, 1).
  ConnectionMaker(BackoffOptions options, std::function<double()> jitter);

  // Direct targets, "host:port". Adding one that exists is a no-op; order is kept.
  void AddTargets(const std::vector<std::string>& addresses);
  // Forgets direct targets; returns the ones that were not targets.
  std::vector<std::string> ForgetTargets(const std::vector<std::string>& addresses);
  std::vector<std::string> DirectTargets() const { return direct_order_; }

  // Replaces the addresses learned through gossip. Ones that vanish are dropped unless they
  // are also direct or a dial is in flight.
  void SetDiscovered(const std::set<std::string>& addresses);

  // Targets due at `now` that `may_dial` admits (it sees the peer last found at that address,
  // if any). Each returned target is "attempting" until Failed/Connected is called.
  using DialGate =
      std::function<bool(absl::string_view address, std::optional<PeerName> last_peer)>;
  std::vector<std::string> Due(absl::Time now, const DialGate& may_dial);

  // The attempt failed (or a connection closed during its handshake); retried after back-off.
  void Failed(absl::string_view address, absl::string_view error, absl::Time now);
  // The address is ourselves or a name collision: never dialled again.
  void NeverRetry(absl::string_view address, absl::string_view reason);
  // A connection to `peer` at `address` is up (dialled or inbound from the peer listening there).
  void Connected(absl::string_view address, PeerName peer, absl::Time now);
  // That connection closed.
  void Disconnected(absl::string_view address, absl::string_view reason, absl::Time now);

  // When Due next has something (InfiniteFuture when nothing waits).
  absl::Time NextDue() const;
  // Targets that are neither connected nor suspended, for status.
  std::vector<TargetStatus> Status() const;

 private:
  enum class State { kWaiting, kAttempting, kConnected, kNever };
  struct Target {
    bool direct = false;
    bool discovered = false;
    State state = State::kWaiting;
    absl::Time try_after = absl::InfinitePast();
    absl::Duration interval;
    absl::Time last_attempt = absl::InfinitePast();
    std::string last_error;
    std::optional<PeerName> peer;
  };

  Target& Get(absl::string_view address);
  void ScheduleRetry(Target& target, absl::Time now);
  void DropIfUnwanted(const std::string& address);

  const BackoffOptions options_;
  std::function<double()> jitter_;
  std::map<std::string, Target> targets_;
  std::vector<std::string> direct_order_;
};

}  // namespace weave::mesh
