#include "router/npc_status.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/net/ip.h"
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
  std::vector<net::Ipv4> enforced;
  for (const std::string& text : report.enforced_pods()) {
    absl::StatusOr<net::Ipv4> address = net::Ipv4::Parse(text);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("enforced_pods: \"", text, "\" is not an IPv4 address"));
    }
    enforced.push_back(*address);
  }
  report.set_enforced_pod_count(report.enforced_pods_size());
  report.clear_enforced_pods();
  latest_ = std::move(report);
  if (gate_ == nullptr) return true;
  if (!synced) return gate_->gate_open();
  if (!gate_->gate_open()) {
    if (absl::Status opened = gate_->OpenGate(); !opened.ok()) {
      spdlog::error("Opening the policy gate: {}", std::string(opened.message()));
      return opened;
    }
    spdlog::info(
        "weave-npc finished its first sync: the policy gate is open, new connections "
        "to local pods pass");
  }
  if (absl::Status cleared = gate_->PodsEnforced(enforced); !cleared.ok()) {
    spdlog::error("Letting pods whose policies weave-npc enforces pass the gate: {}",
                  std::string(cleared.message()));
    return cleared;
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
  gate->set_pending_pods(gate_ == nullptr ? 0 : gate_->pending_pods());
}

}  // namespace weave::router
