// What weave-npc reports to the router (ReportPolicyStatus), and the policy gate its first full
// sync opens. The router keeps the latest report for `weave status`, `weave report` and metrics.
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "router/net/masquerade.h"
#include "weave/router.pb.h"

namespace weave::router {

class NpcStatus {
 public:
  // `gate` is null without EXPECT_NPC (there is no gate); otherwise it must outlive this.
  // `now` stamps each report with the time it arrived.
  explicit NpcStatus(PolicyGate* gate, std::function<absl::Time()> now = absl::Now);

  // Keeps `report` as the latest and, once it says the first full sync is done, opens the gate
  // (which then stays open whatever later reports say) and lets the pods it lists as enforced
  // pass the per-pod gate. Returns whether the gate is open; an error when opening or clearing
  // failed (the report is kept all the same, and weave-npc's next report retries) or when an
  // enforced address is not an IPv4 address (the report is refused; nothing changes).
  absl::StatusOr<bool> Report(v1::PolicyStatus report);

  // Status.npc (the latest report, once there is one) and Status.npc_gate.
  void Fill(v1::Status* status) const;

 private:
  PolicyGate* const gate_;
  const std::function<absl::Time()> now_;
  mutable std::mutex mu_;
  std::optional<v1::PolicyStatus> latest_;  // guarded by mu_
};

}  // namespace weave::router
