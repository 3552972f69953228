// What attaching a pod needs from its network namespace, behind an interface so that the
// attach logic runs in unit tests against FakeNetlink.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"

namespace weave::router {

class PodNamespace {
 public:
  virtual ~PodNamespace() = default;
  // An fd of the namespace, for creating the veth's pod end directly inside it.
  virtual int fd() const = 0;
  // Netlink requests act inside the pod's namespace.
  virtual netlink::Netlink& netlink() = 0;
  // Gratuitous ARP from inside the namespace, so that neighbours forget a reused address.
  // Returns once the packet is sent; the real one releases its socket later, off the caller's
  // path (netlink::ArpAnnouncer).
  virtual absl::Status AnnounceAddress(const std::string& ifname, net::Ipv4 ip,
                                       const std::array<uint8_t, 6>& mac) = 0;
};

class PodNamespaceOpener {
 public:
  virtual ~PodNamespaceOpener() = default;
  // NotFound (naming the path) when the namespace does not exist.
  virtual absl::StatusOr<std::unique_ptr<PodNamespace>> Open(const std::string& netns_path) = 0;
};

// The real thing: setns-bound netlink sockets and packet sockets.
std::unique_ptr<PodNamespaceOpener> NewLinuxPodNamespaceOpener();

}  // namespace weave::router
