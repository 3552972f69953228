#include "router/npc_status.h"

#include "spdlog/spdlog.h"

namespace weave::router {

NpcStatus::NpcStatus(PolicyGate* gate, std::function<absl::Time()> now)
    : gate_(gate), now_(std::move(now)) {}

absl::StatusOr<bool> NpcStatus::Report(v1::PolicyStatus report) {
  report.set_received_unix_seconds(absl::ToUnixSeconds(now_()));
  const bool synced = report.first_sync_done();
  // One report at a time, so that the gate opens (and says so) once.
  std::lock_guard lock(mu_);
  if (!latest_) {
    spdlog::info("weave-npc reported: {} policies, first sync {}", report.policies(),
                 synced ? "done" : "not done yet");
  }
  latest_ = std::move(report);
  if (gate_ == nullptr) return true;
  if (synced && !gate_->gate_open()) {
    if (absl::Status opened = gate_->OpenGate(); !opened.ok()) {
      spdlog::error("Opening the policy gate: {}", std::string(opened.message()));
      return opened;
    }
    spdlog::info(
        "weave-npc finished its first sync: the policy gate is open, new connections "
        "to local pods pass");
  }
  return gate_->gate_open();
}

void NpcStatus::Fill(v1::Status* status) const {
  {
    std::lock_guard lock(mu_);
    if (latest_) *status->mutable_npc() = *latest_;
  }
  v1::PolicyGate* gate = status->mutable_npc_gate();
  gate->set_expected(gate_ != nullptr);
  gate->set_open(gate_ == nullptr || gate_->gate_open());
}

}  // namespace weave::router
