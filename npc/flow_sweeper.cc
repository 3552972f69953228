#include "npc/flow_sweeper.h"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace weave::npc {

bool Doomed(const netlink::conntrack::Flow& flow, const conformance::Ruleset& ruleset,
            const std::set<uint32_t>& node_addresses) {
  if (node_addresses.count(flow.saddr.value()) || node_addresses.count(flow.daddr.value())) {
    return false;
  }
  switch (flow.protocol) {
    case netlink::conntrack::kTcp:
    case netlink::conntrack::kUdp:
    case netlink::conntrack::kSctp:
    case netlink::conntrack::kIcmp:
      break;
    default:
      return false;
  }
  conformance::Packet packet;
  packet.saddr = flow.saddr;
  packet.daddr = flow.daddr;
  packet.protocol = flow.protocol;
  packet.sport = flow.sport;
  packet.dport = flow.dport;
  packet.ct_state = conformance::kCtNew;
  return ruleset.Evaluate("forward", packet).fate == conformance::Fate::kDrop;
}

absl::Duration SweepPause(absl::Duration took) {
  return std::max(absl::Milliseconds(250), 4 * took);
}

std::set<uint32_t> NodeAddresses() {
  std::set<uint32_t> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    out.insert(ntohl(reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr.s_addr));
  }
  freeifaddrs(list);
  return out;
}

ConntrackSweeper::ConntrackSweeper(std::unique_ptr<netlink::conntrack::Conntrack> conntrack,
                                   std::function<std::set<uint32_t>()> addresses)
    : conntrack_(std::move(conntrack)),
      addresses_(addresses ? std::move(addresses) : NodeAddresses) {}

absl::StatusOr<int> ConntrackSweeper::Sweep(const nft::Table& table) {
  absl::StatusOr<conformance::Ruleset> ruleset = conformance::Ruleset::Parse(nft::ToText(table));
  if (!ruleset.ok()) {
    return absl::InternalError(
        absl::StrCat("reading back table inet weave-npc: ", ruleset.status().message()));
  }
  const std::set<uint32_t> addresses = addresses_();
  return conntrack_->DeleteIf(
      [&](const netlink::conntrack::Flow& flow) { return Doomed(flow, *ruleset, addresses); });
}

}  // namespace weave::npc
