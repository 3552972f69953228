// The kernel implementation of Netlink: a NetlinkSocket plus the encoders and decoders.
#include <linux/netlink.h>

#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/netlink/message.h"
#include "common/netlink/netlink.h"
#include "common/netlink/socket.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

// A dump that the kernel reports inconsistent is read again, this many times at most.
constexpr int kDumpAttempts = 3;

class LinuxNetlink final : public Netlink {
 public:
  explicit LinuxNetlink(std::unique_ptr<NetlinkSocket> socket) : socket_(std::move(socket)) {}

  absl::StatusOr<LinkInfo> GetLink(absl::string_view name) override {
    const std::string what = absl::StrCat("getting link ", name);
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    return QueryLink(EncodeGetLink(name), what);
  }

  absl::StatusOr<std::vector<LinkInfo>> ListLinks() override {
    return Dump<LinkInfo>(EncodeListLinks(), "listing links",
                          [](const nlmsghdr& message) -> absl::StatusOr<std::optional<LinkInfo>> {
                            return DecodeLink(message);
                          });
  }

  absl::Status CreateBridge(absl::string_view name, int mtu) override {
    const std::string what = absl::StrCat("creating bridge ", name);
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    return Execute(EncodeCreateBridge(name, mtu), what);
  }

  absl::Status CreateVethPair(absl::string_view name, absl::string_view peer_name, int mtu,
                              int peer_netns_fd) override {
    std::string what = absl::StrCat("creating veth ", name, " with peer ", peer_name);
    if (peer_netns_fd >= 0) absl::StrAppend(&what, " in namespace fd ", peer_netns_fd);
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    RETURN_IF_ERROR(Annotate(ValidateLinkName(peer_name), what));
    return Execute(EncodeCreateVeth(name, peer_name, mtu, peer_netns_fd), what);
  }

  absl::Status DeleteLink(absl::string_view name) override {
    const std::string what = absl::StrCat("deleting link ", name);
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    return Execute(EncodeDeleteLink(name), what);
  }

  absl::Status DeleteLinkByIndex(int index) override {
    return Execute(EncodeDeleteLinkByIndex(index), absl::StrCat("deleting link #", index));
  }

  absl::Status SetUp(absl::string_view name, bool up) override {
    return SetLink(name, {.up = up}, absl::StrCat("setting link ", name, up ? " up" : " down"));
  }

  absl::Status SetMtu(absl::string_view name, int mtu) override {
    return SetLink(name, {.mtu = mtu}, absl::StrCat("setting MTU of ", name, " to ", mtu));
  }

  absl::Status SetMac(absl::string_view name, const MacAddress& mac) override {
    const std::string what = absl::StrCat("setting MAC address of ", name, " to ", FormatMac(mac));
    RETURN_IF_ERROR(Annotate(ValidateUnicastMac(mac), what));
    return SetLink(name, {.mac = mac}, what);
  }

  absl::Status SetMaster(absl::string_view name, absl::string_view master) override {
    if (master.empty()) {
      return SetLink(name, {.master_index = 0},
                     absl::StrCat("removing ", name, " from its bridge"));
    }
    const std::string what = absl::StrCat("adding ", name, " to bridge ", master);
    ASSIGN_OR_RETURN(const int master_index, IndexOf(master, what));
    return SetLink(name, {.master_index = master_index}, what);
  }

  absl::Status SetHairpin(absl::string_view bridge_port, bool on) override {
    const std::string what =
        absl::StrCat("turning hairpin mode ", on ? "on" : "off", " on bridge port ", bridge_port);
    ASSIGN_OR_RETURN(const int index, IndexOf(bridge_port, what));
    return Execute(EncodeSetHairpin(index, on), what);
  }

  absl::Status SetIsolated(absl::string_view bridge_port, bool on) override {
    const std::string what =
        absl::StrCat("turning isolation ", on ? "on" : "off", " on bridge port ", bridge_port);
    ASSIGN_OR_RETURN(const int index, IndexOf(bridge_port, what));
    return Execute(EncodeSetIsolated(index, on), what);
  }

  absl::Status FlushLearned(absl::string_view bridge_port) override {
    const std::string what = absl::StrCat("flushing learned entries of bridge port ", bridge_port);
    ASSIGN_OR_RETURN(const int index, IndexOf(bridge_port, what));
    return Execute(EncodeFlushLearned(index), what);
  }

  absl::Status CreateVxlan(const VxlanSpec& spec) override {
    const std::string what = absl::StrCat("creating VXLAN device ", spec.name);
    RETURN_IF_ERROR(Annotate(ValidateVxlanSpec(spec), what));
    return Execute(EncodeCreateVxlan(spec), what);
  }

  absl::StatusOr<VxlanSpec> GetVxlan(absl::string_view name) override {
    const std::string what = absl::StrCat("getting VXLAN device ", name);
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    return Query<VxlanSpec>(
        EncodeGetLink(name), what, [](const nlmsghdr& message) -> absl::StatusOr<VxlanSpec> {
          ASSIGN_OR_RETURN(const LinkInfo link, DecodeLink(message));
          RETURN_IF_ERROR(ValidateIsVxlan(link));
          ASSIGN_OR_RETURN(const std::optional<VxlanSpec> vxlan, DecodeVxlan(message));
          return vxlan.value();  // Always there for a VXLAN device.
        });
  }

  absl::Status AddFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) override {
    const std::string what =
        absl::StrCat("adding FDB entry ", FormatMac(mac), " dst ", dst.ToString(), " to ", device);
    ASSIGN_OR_RETURN(const int index, VxlanIndexOf(device, what));
    return Execute(EncodeAddFdb(index, mac, dst), what);
  }

  absl::Status DeleteFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) override {
    const std::string what = absl::StrCat("deleting FDB entry ", FormatMac(mac), " dst ",
                                          dst.ToString(), " from ", device);
    ASSIGN_OR_RETURN(const int index, VxlanIndexOf(device, what));
    return Execute(EncodeDeleteFdb(index, mac, dst), what);
  }

  absl::StatusOr<std::vector<FdbEntry>> ListFdb(absl::string_view device) override {
    const std::string what = absl::StrCat("listing FDB of ", device);
    ASSIGN_OR_RETURN(const int index, IndexOf(device, what));
    // A socket without strict checking gets every device's entries; keep this one's.
    return Dump<FdbEntry>(
        EncodeListFdb(index), what,
        [index](const nlmsghdr& message) -> absl::StatusOr<std::optional<FdbEntry>> {
          ASSIGN_OR_RETURN(const std::optional<FdbRecord> record, DecodeFdb(message));
          if (!record || record->index != index) return std::nullopt;
          return record->entry;
        });
  }

  absl::Status AddAddress(absl::string_view name, const net::Cidr& address) override {
    const std::string what = absl::StrCat("adding address ", address.ToString(), " to ", name);
    ASSIGN_OR_RETURN(const int index, IndexOf(name, what));
    return Execute(EncodeAddAddress(index, address), what);
  }

  absl::StatusOr<std::vector<net::Cidr>> ListAddresses(absl::string_view name) override {
    const std::string what = absl::StrCat("listing addresses of ", name);
    ASSIGN_OR_RETURN(const int index, IndexOf(name, what));
    // A socket without strict checking gets every link's addresses; keep this link's.
    return Dump<net::Cidr>(
        EncodeListAddresses(index), what,
        [index](const nlmsghdr& message) -> absl::StatusOr<std::optional<net::Cidr>> {
          ASSIGN_OR_RETURN(const std::optional<AddressEntry> entry, DecodeAddress(message));
          if (!entry || entry->index != index) return std::nullopt;
          return entry->address;
        });
  }

  absl::Status DeleteAddress(absl::string_view name, const net::Cidr& address) override {
    const std::string what = absl::StrCat("deleting address ", address.ToString(), " from ", name);
    ASSIGN_OR_RETURN(const int index, IndexOf(name, what));
    return Execute(EncodeDeleteAddress(index, address), what);
  }

  absl::Status AddRoute(const Route& route) override {
    const std::string what = absl::StrCat("adding route ", route.ToString());
    ASSIGN_OR_RETURN(const RouteEntry entry, ToEntry(route, what));
    return Execute(EncodeAddRoute(entry), what);
  }

  absl::StatusOr<std::vector<Route>> ListRoutes() override {
    constexpr absl::string_view kWhat = "listing routes";
    ASSIGN_OR_RETURN(const std::vector<RouteEntry> entries,
                     Dump<RouteEntry>(EncodeListRoutes(), kWhat, DecodeRoute));
    // Routes name devices by index: look up each device once. One that is gone has taken its
    // routes with it.
    std::map<int, std::optional<std::string>> names;
    std::vector<Route> routes;
    for (const RouteEntry& entry : entries) {
      auto [name, inserted] = names.try_emplace(entry.oif);
      if (inserted && entry.oif > 0) {
        absl::StatusOr<LinkInfo> link =
            QueryLink(EncodeGetLink(entry.oif), absl::StrCat(kWhat, ": getting link ", entry.oif));
        if (link.ok()) {
          name->second = link->name;
        } else if (!absl::IsNotFound(link.status())) {
          return link.status();
        }
      }
      if (entry.oif > 0 && !name->second) continue;
      routes.push_back(Route{entry.dst, entry.gateway, name->second.value_or("")});
    }
    return routes;
  }

  absl::Status DeleteRoute(const Route& route) override {
    const std::string what = absl::StrCat("deleting route ", route.ToString());
    ASSIGN_OR_RETURN(const RouteEntry entry, ToEntry(route, what));
    return Execute(EncodeDeleteRoute(entry), what);
  }

 private:
  absl::Status Execute(Request request, absl::string_view what) {
    return socket_->Send(request, what);
  }

  // The one reply to a GET request, decoded.
  template <typename T, typename Decode>
  absl::StatusOr<T> Query(Request request, absl::string_view what, Decode decode) {
    std::optional<T> item;
    RETURN_IF_ERROR(socket_->Send(request, what, [&](const nlmsghdr& message) -> absl::Status {
      ASSIGN_OR_RETURN(item, decode(message));
      return absl::OkStatus();
    }));
    if (!item) return absl::InternalError(absl::StrCat(what, ": the kernel sent no reply"));
    return *std::move(item);
  }

  absl::StatusOr<LinkInfo> QueryLink(Request request, absl::string_view what) {
    return Query<LinkInfo>(std::move(request), what, DecodeLink);
  }

  // Link `name`, for requests that need its index; errors say they came from `what`.
  absl::StatusOr<LinkInfo> LinkOf(absl::string_view name, absl::string_view what) {
    absl::StatusOr<LinkInfo> link = GetLink(name);
    if (!link.ok()) return Annotate(link.status(), what);
    return link;
  }

  absl::StatusOr<int> IndexOf(absl::string_view name, absl::string_view what) {
    ASSIGN_OR_RETURN(const LinkInfo link, LinkOf(name, what));
    return link.index;
  }

  // The index of `name`, which must be a VXLAN device.
  absl::StatusOr<int> VxlanIndexOf(absl::string_view name, absl::string_view what) {
    ASSIGN_OR_RETURN(const LinkInfo link, LinkOf(name, what));
    RETURN_IF_ERROR(Annotate(ValidateIsVxlan(link), what));
    return link.index;
  }

  absl::Status SetLink(absl::string_view name, const LinkChange& change, absl::string_view what) {
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    return Execute(EncodeSetLink(name, change), what);
  }

  absl::StatusOr<RouteEntry> ToEntry(const Route& route, absl::string_view what) {
    RETURN_IF_ERROR(Annotate(ValidateRoute(route), what));
    RouteEntry entry{route.dst, route.gateway, 0};
    if (!route.dev.empty()) {
      ASSIGN_OR_RETURN(entry.oif, IndexOf(route.dev, what));
    }
    return entry;
  }

  // Every item a dump yields that `decode` keeps (returns a value for), read again from the start
  // when the kernel's tables changed during the dump.
  template <typename T, typename Decode>
  absl::StatusOr<std::vector<T>> Dump(const Request& request, absl::string_view what,
                                      Decode decode) {
    absl::Status status;
    for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
      std::vector<T> items;
      Request copy = request;
      status = socket_->Send(copy, what, [&](const nlmsghdr& message) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<T> item, decode(message));
        if (item) items.push_back(*std::move(item));
        return absl::OkStatus();
      });
      if (status.ok()) return items;
      if (!absl::IsAborted(status)) break;
    }
    return status;
  }

  std::unique_ptr<NetlinkSocket> socket_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlink() {
  ASSIGN_OR_RETURN(std::unique_ptr<NetlinkSocket> socket, NetlinkSocket::Open());
  return std::make_unique<LinuxNetlink>(std::move(socket));
}

absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlinkIn(const NetnsFd& netns) {
  std::unique_ptr<NetlinkSocket> socket;
  RETURN_IF_ERROR(RunInNetns(netns, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(socket, NetlinkSocket::Open());
    return absl::OkStatus();
  }));
  return std::make_unique<LinuxNetlink>(std::move(socket));
}

absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlinkIn(const std::string& netns_path) {
  ASSIGN_OR_RETURN(const NetnsFd netns, NetnsFd::Open(netns_path));
  return OpenNetlinkIn(netns);
}

}  // namespace weave::netlink
