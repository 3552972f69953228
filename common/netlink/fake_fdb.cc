// FakeNetlink's bridge port flags and forwarding databases (the rest is in fake_netlink.cc).
#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/netlink/fake_netlink.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

// The kernel appends remotes only to these; a unicast MAC keeps its first.
bool CollectsRemotes(const MacAddress& mac) { return (mac[0] & 1) != 0 || mac == MacAddress{}; }

}  // namespace

absl::StatusOr<bool> FakeNetlink::Isolated(absl::string_view port) const {
  const Link* link = Find(port);
  if (link == nullptr) return ErrnoStatus(ENODEV, absl::StrCat("getting link ", port));
  return link->isolated;
}

absl::Status FakeNetlink::SendFrame(absl::string_view sender) {
  const std::string what = absl::StrCat("sending a frame on ", sender);
  const Link* link = Find(sender);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  if (!link->info.up) return ErrnoStatus(ENETDOWN, what);
  Link* port = PeerOf(*link);
  if (port == nullptr || !port->info.up || port->info.master_index == 0) return absl::OkStatus();
  FakeNetlink& bridge_namespace = *link->peer_namespace;
  const int bridge = port->info.master_index;
  if (!bridge_namespace.links_.at(bridge).info.up) return absl::OkStatus();
  for (auto& [index, other] : bridge_namespace.links_) {
    if (other.info.master_index == bridge) std::erase(other.learned, link->info.mac);
  }
  port->learned.push_back(link->info.mac);
  return absl::OkStatus();
}

absl::Status FakeNetlink::SetIsolated(absl::string_view bridge_port, bool on) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what =
      absl::StrCat("turning isolation ", on ? "on" : "off", " on bridge port ", bridge_port);
  ASSIGN_OR_RETURN(Link * link, LookupPort(bridge_port, what));
  link->isolated = on;
  return absl::OkStatus();
}

absl::Status FakeNetlink::FlushLearned(absl::string_view bridge_port) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("flushing learned entries of bridge port ", bridge_port);
  ASSIGN_OR_RETURN(Link * link, LookupPort(bridge_port, what));
  link->learned.clear();
  return absl::OkStatus();
}

absl::Status FakeNetlink::AddFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what =
      absl::StrCat("adding FDB entry ", FormatMac(mac), " dst ", dst.ToString(), " to ", device);
  ASSIGN_OR_RETURN(Link * link, LookupVxlan(device, what));
  std::vector<FdbEntry>& fdb = link->fdb;
  const FdbEntry entry{mac, dst, /*permanent=*/true, /*self=*/true};
  const bool mac_known =
      std::any_of(fdb.begin(), fdb.end(), [&](const FdbEntry& e) { return e.mac == mac; });
  if (mac_known && !CollectsRemotes(mac)) return absl::OkStatus();
  if (std::find(fdb.begin(), fdb.end(), entry) == fdb.end()) fdb.push_back(entry);
  return absl::OkStatus();
}

absl::Status FakeNetlink::DeleteFdb(absl::string_view device, const MacAddress& mac,
                                    net::Ipv4 dst) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("deleting FDB entry ", FormatMac(mac), " dst ",
                                        dst.ToString(), " from ", device);
  ASSIGN_OR_RETURN(Link * link, LookupVxlan(device, what));
  std::vector<FdbEntry>& fdb = link->fdb;
  if (std::none_of(fdb.begin(), fdb.end(), [&](const FdbEntry& e) { return e.mac == mac; })) {
    return ErrnoStatus(ENOENT, what);
  }
  std::erase_if(fdb, [&](const FdbEntry& e) { return e.mac == mac && e.dst == dst; });
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FdbEntry>> FakeNetlink::ListFdb(absl::string_view device) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  ASSIGN_OR_RETURN(const Link* link, Lookup(device, absl::StrCat("listing FDB of ", device)));
  std::vector<FdbEntry> entries;
  // A port's own MAC is a permanent entry of its bridge, and so is a bridge's.
  if (link->info.master_index != 0 || link->info.kind == "bridge") {
    entries.push_back({link->info.mac, std::nullopt, /*permanent=*/true, /*self=*/false});
  }
  for (const MacAddress& mac : link->learned) {
    entries.push_back({mac, std::nullopt, /*permanent=*/false, /*self=*/false});
  }
  entries.insert(entries.end(), link->fdb.begin(), link->fdb.end());
  return entries;
}

FakeNetlink::Link* FakeNetlink::PeerOf(const Link& link) const {
  if (link.peer_namespace == nullptr) return nullptr;
  auto it = link.peer_namespace->links_.find(link.peer_index);
  return it == link.peer_namespace->links_.end() ? nullptr : &it->second;
}

void FakeNetlink::ForgetLearnedThrough(Link& link) {
  link.learned.clear();
  for (auto& [index, port] : links_) {
    if (port.info.master_index == link.info.index) port.learned.clear();
  }
  if (Link* peer = PeerOf(link); peer != nullptr) peer->learned.clear();
}

}  // namespace weave::netlink
