// Gratuitous ARP: tells the neighbours on a link that an IPv4 address is now at a MAC address, so
// that a pod's new address is reachable at once instead of after their ARP caches expire.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "common/netlink/netns.h"
#include "common/netlink/types.h"

namespace weave::netlink {

// The 28-byte ARP packet (Ethernet/IPv4) of a gratuitous ARP request, as `arping -U` sends:
// sender and target protocol address both `ip`, sender hardware address `mac`, target hardware
// address broadcast.
std::array<uint8_t, 28> EncodeGratuitousArp(net::Ipv4 ip, const MacAddress& mac);

// Broadcasts that packet on `ifname` of the calling thread's network namespace (use RunInNetns
// for another) through an AF_PACKET socket. Needs CAP_NET_RAW. NotFound when there is no such
// link; FailedPrecondition when it is down. Returns only once the socket is released, which
// takes an RCU grace period (see ArpAnnouncer).
absl::Status SendGratuitousArp(absl::string_view ifname, net::Ipv4 ip, const MacAddress& mac);

// Sends gratuitous ARP inside other network namespaces, returning as soon as the packet is sent.
//
// Why not SendGratuitousArp under RunInNetns: the kernel releases every AF_PACKET socket after
// an RCU grace period (packet_release calls synchronize_net), 10-20 ms on a busy node, which
// was most of a CNI ADD's time in the router. Here the thread that entered the namespace
// reports the send, then closes the socket and ends on its own. Such threads overlap, and
// overlapping closes share grace periods (twenty take about as long as one), so pods attached
// in a burst do not queue behind each other's closes. The socket is opened with protocol 0: it
// receives nothing while it waits to be closed.
//
// Thread-safe. The destructor waits for the sockets still being closed.
class ArpAnnouncer {
 public:
  ArpAnnouncer() = default;
  ArpAnnouncer(const ArpAnnouncer&) = delete;
  ArpAnnouncer& operator=(const ArpAnnouncer&) = delete;
  ~ArpAnnouncer();

  // Broadcasts EncodeGratuitousArp(ip, mac) on `ifname` inside `netns`; errors as
  // SendGratuitousArp, or entering the namespace (naming its path) or starting a thread.
  absl::Status Announce(const NetnsFd& netns, absl::string_view ifname, net::Ipv4 ip,
                        const MacAddress& mac);

 private:
  struct Job;
  static void* Run(void* job);
  void Started();
  void Finished();

  std::mutex mu_;
  std::condition_variable finished_;
  int running_ = 0;  // threads started and not yet ended; guarded by mu_
};

}  // namespace weave::netlink
