#include "router/status/render.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace weave::status {
namespace {

void Line(std::string* out, absl::string_view label, absl::string_view value) {
  absl::StrAppendFormat(out, "%15s: %s\n", label, value);
}

std::string EnabledText(bool enabled) { return enabled ? "enabled" : "disabled"; }

// "2 established, 1 failed": only non-zero counts, in the given order.
std::string Counts(const std::map<std::string, int>& counts,
                   const std::vector<std::string>& order) {
  std::vector<std::string> parts;
  for (const std::string& key : order) {
    auto it = counts.find(key);
    if (it != counts.end() && it->second > 0) parts.push_back(absl::StrCat(it->second, " ", key));
  }
  return absl::StrJoin(parts, ", ");
}

std::string ConnectionsText(const v1::RouterStatus& router) {
  std::map<std::string, int> counts;
  for (const v1::Connection& c : router.connections()) counts[c.state()]++;
  std::string detail =
      Counts(counts, {"established", "pending", "retrying", "failed", "connecting"});
  std::string text = absl::StrCat(router.connections_size());
  if (!detail.empty()) absl::StrAppend(&text, " (", detail, ")");
  return text;
}

// Each link appears once per end, as in the original: a full mesh of 3 shows 6.
std::string PeersText(const v1::RouterStatus& router) {
  std::map<std::string, int> counts;
  for (const v1::Peer& peer : router.peers()) {
    for (const v1::PeerConnection& c : peer.connections()) {
      counts[c.established() ? "established" : "pending"]++;
    }
  }
  std::string detail = Counts(counts, {"established", "pending"});
  std::string text = absl::StrCat(router.peers_size());
  if (!detail.empty()) absl::StrAppend(&text, " (with ", detail, " connections)");
  return text;
}

std::string ProtocolText(const v1::RouterStatus& router) {
  if (router.protocol_min_version() == router.protocol_max_version()) {
    return absl::StrCat(router.protocol(), " ", router.protocol_max_version());
  }
  return absl::StrCat(router.protocol(), " ", router.protocol_min_version(), "..",
                      router.protocol_max_version());
}

std::string NameNick(absl::string_view name, absl::string_view nickname) {
  return absl::StrCat(name, "(", nickname, ")");
}

// "3" or "3 (1 unenforceable)".
std::string PoliciesText(const v1::PolicyStatus& npc) {
  std::string text = absl::StrCat(npc.policies());
  if (npc.rejected_policies_size() > 0) {
    absl::StrAppend(&text, " (", npc.rejected_policies_size(), " unenforceable)");
  }
  return text;
}

// "14", or "14 in 5 chains" when the chains were reported.
std::string RulesText(const v1::PolicyStatus& npc) {
  if (npc.chains() == 0) return absl::StrCat(npc.rules());
  return absl::StrCat(npc.rules(), " in ", npc.chains(), " chains");
}

// "9", or "9 with 120 elements" when the elements were reported.
std::string SetsText(const v1::PolicyStatus& npc) {
  if (npc.elements() == 0) return absl::StrCat(npc.sets());
  return absl::StrCat(npc.sets(), " with ", npc.elements(), " elements");
}

void RenderNpc(const v1::Status& status, std::string* out) {
  const v1::PolicyStatus& npc = status.npc();
  Line(out, "Service", "npc");
  Line(out, "Status", NpcStateText(status));
  if (status.npc_gate().pending_pods() > 0) {
    // New pods wait at the gate until weave-npc reports their policies enforced: normally for
    // milliseconds; a count that stays says weave-npc is away or cannot see those pods.
    Line(out, "PendingPods",
         absl::StrCat(status.npc_gate().pending_pods(), " (new connections wait for weave-npc)"));
  }
  if (!status.has_npc()) return;
  Line(out, "Policies", PoliciesText(npc));
  Line(out, "Rules", RulesText(npc));
  Line(out, "Sets", SetsText(npc));
  Line(out, "LastSync",
       npc.last_sync_unix_seconds() == 0 ? "never" : TimeText(npc.last_sync_unix_seconds()));
  if (npc.sync_errors() > 0) {
    std::string errors = absl::StrCat(npc.sync_errors());
    if (!npc.last_error().empty()) absl::StrAppend(&errors, " (last: ", npc.last_error(), ")");
    Line(out, "SyncErrors", errors);
  }
}

}  // namespace

std::string TimeText(int64_t unix_seconds) {
  return absl::FormatTime("%Y/%m/%d %H:%M:%S", absl::FromUnixSeconds(unix_seconds),
                          absl::LocalTimeZone());
}

std::string NpcStateText(const v1::Status& status) {
  const bool synced = status.has_npc() && status.npc().first_sync_done();
  const v1::PolicyGate& gate = status.npc_gate();
  if (synced) return "ready";
  if (gate.expected() && !gate.open()) {
    return "waiting for weave-npc's first sync (new connections to local pods are blocked)";
  }
  if (status.has_npc()) return "waiting for weave-npc's first sync";
  return "waiting for weave-npc to report (the gate is open since an earlier sync)";
}

std::string VersionCheckText(const v1::VersionCheck& check) {
  std::string next = TimeText(check.next_check_unix_seconds());
  if (!check.enabled()) return "version check update disabled";
  if (!check.success()) {
    return absl::StrCat("failed to check latest version - see logs; next check at ", next);
  }
  if (!check.new_version().empty()) {
    return absl::StrCat("version ", check.new_version(), " available - please upgrade!");
  }
  return absl::StrCat("up to date; next check at ", next);
}

std::string IpamStateText(const v1::IpamStatus& ipam) {
  switch (ipam.state()) {
    case v1::IpamStatus::READY:
      return "ready";
    case v1::IpamStatus::PRIMING:
      return "priming";
    case v1::IpamStatus::AWAITING_CONSENSUS:
      return absl::StrCat("awaiting consensus (quorum: ", ipam.consensus_quorum(),
                          ", known: ", ipam.consensus_known(), ")");
    case v1::IpamStatus::WAITING_FOR_SPACE:
      return "waiting for IP range grant from peers";
    case v1::IpamStatus::ALL_RANGES_UNREACHABLE:
      return "all IP ranges owned by unreachable peers - use 'rmpeer' if they are dead";
    case v1::IpamStatus::IDLE:
    default:
      return "idle";
  }
}

std::string RenderStatus(const v1::Status& status) {
  std::string out;
  Line(&out, "Version",
       absl::StrCat(status.version(), " (", VersionCheckText(status.version_check()), ")"));
  if (status.has_router()) {
    const v1::RouterStatus& router = status.router();
    out += "\n";
    Line(&out, "Service", "router");
    Line(&out, "Protocol", ProtocolText(router));
    Line(&out, "Name", NameNick(router.name(), router.nickname()));
    Line(&out, "Encryption", EnabledText(router.encryption()));
    Line(&out, "PeerDiscovery", EnabledText(router.peer_discovery()));
    Line(&out, "Targets", absl::StrCat(router.targets_size()));
    Line(&out, "Connections", ConnectionsText(router));
    Line(&out, "Peers", PeersText(router));
    Line(&out, "TrustedSubnets", router.trusted_subnets().empty()
                                     ? "none"
                                     : absl::StrJoin(router.trusted_subnets(), ", "));
  }
  if (status.has_ipam()) {
    out += "\n";
    Line(&out, "Service", "ipam");
    Line(&out, "Status", IpamStateText(status.ipam()));
    if (!status.ipam().conflict().empty()) Line(&out, "Conflict", status.ipam().conflict());
    Line(&out, "Range", status.ipam().range());
    Line(&out, "DefaultSubnet", status.ipam().default_subnet());
  }
  // Once weave-npc has reported, and while the gate waits for it.
  if (status.has_npc() || status.npc_gate().expected()) {
    out += "\n";
    RenderNpc(status, &out);
  }
  return out;
}

std::string RenderPeers(const v1::Status& status) {
  std::string out;
  for (const v1::Peer& peer : status.router().peers()) {
    absl::StrAppend(&out, NameNick(peer.name(), peer.nickname()), "\n");
    for (const v1::PeerConnection& c : peer.connections()) {
      absl::StrAppendFormat(&out, "   %s %-21s %-37s %s\n", c.outbound() ? "->" : "<-",
                            c.address(), NameNick(c.name(), c.nickname()),
                            c.established() ? "established" : "pending");
    }
  }
  return out;
}

std::string RenderConnections(const v1::Status& status) {
  std::string out;
  for (const v1::Connection& c : status.router().connections()) {
    // Attributes print as key=value in key order with no separator, as the original did.
    std::map<std::string, std::string> attrs(c.attrs().begin(), c.attrs().end());
    std::string attr_text;
    for (const auto& [key, value] : attrs) {
      if (key != "name") absl::StrAppend(&attr_text, key, "=", value);
    }
    absl::StrAppendFormat(&out, "%s %-21s %-11s %s %s\n", c.outbound() ? "->" : "<-",
                          c.address(), c.state(), c.info(), attr_text);
  }
  return out;
}

std::string RenderTargets(const v1::Status& status) {
  std::string out;
  for (const std::string& target : status.router().targets()) absl::StrAppend(&out, target, "\n");
  return out;
}

std::string RenderIpam(const v1::Status& status) {
  const v1::IpamStatus& ipam = status.ipam();
  struct Owner {
    std::string nickname;
    bool reachable = true;
    uint64_t ips = 0;
  };
  std::map<std::string, Owner> owners;  // by peer name; sorted for a stable order
  for (const v1::RingEntry& entry : ipam.entries()) {
    Owner& owner = owners[entry.peer()];
    owner.nickname = entry.nickname();
    owner.reachable = entry.is_known_peer();
    owner.ips += entry.size();
  }
  auto line = [&](const std::string& name, const Owner& owner, const std::string& info) {
    double percent =
        ipam.range_num_ips() == 0 ? 0.0 : 100.0 * owner.ips / ipam.range_num_ips();
    return absl::StrFormat("%-37s %8d IPs (%04.1f%% of total) %s\n",
                           NameNick(name, owner.nickname), owner.ips, percent, info);
  };
  std::string out;
  const std::string& self = status.router().name();
  if (auto it = owners.find(self); it != owners.end()) {
    out += line(self, it->second, absl::StrCat("(", ipam.active_ips(), " active)"));
  }
  for (const auto& [name, owner] : owners) {
    if (name != self) out += line(name, owner, owner.reachable ? "" : "- unreachable!");
  }
  return out;
}

}  // namespace weave::status
