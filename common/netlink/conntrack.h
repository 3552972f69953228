// The conntrack entries of flows a new policy denies, found and deleted through ctnetlink.
//
// weave-npc's rules accept `ct state established,related` before anything else, so a flow that a
// new policy denies keeps passing for as long as its conntrack entry lives. After applying the new
// rules the controller calls DeleteIf with the policy's verdict; the next packet of a deleted flow
// is no longer established and meets the rules.
//
// Three layers, as the rtnetlink adapter beside it: the value (Flow), pure encoders and a decoder
// (bytes in, bytes out, testable without root), and the socket (Conntrack, over NetlinkSocket).
// Speaks NETLINK_NETFILTER / NFNL_SUBSYS_CTNETLINK through libmnl; libnetfilter_conntrack is not
// used. IPv4 only: weave's pod network is IPv4, and IPv6 entries are skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/net/ip.h"

namespace weave::netlink {
class NetlinkSocket;
}  // namespace weave::netlink

namespace weave::netlink::conntrack {

// IP protocol numbers that matter to the decoder and to people reading tests.
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kSctp = 132;

// The original direction of an IPv4 conntrack entry: what identifies the entry to the kernel.
struct Flow {
  net::Ipv4 saddr;
  net::Ipv4 daddr;
  uint8_t protocol = 0;
  // Ports for TCP, UDP, UDP-Lite, SCTP and DCCP (GRE keys travel in the same attributes); 0 for
  // protocols without them.
  uint16_t sport = 0;
  uint16_t dport = 0;
  // ICMP only (ports are 0): what the kernel keeps in the tuple instead of ports.
  struct Icmp {
    uint16_t id = 0;
    uint8_t type = 0;
    uint8_t code = 0;
    friend bool operator==(const Icmp&, const Icmp&) = default;
  } icmp;
  // The conntrack zone of the original direction; 0 is the default zone. Zones are 16 bits.
  uint16_t zone = 0;

  // "tcp 10.32.0.1:40000 -> 10.32.0.2:80", "icmp 10.32.0.1 -> 10.32.0.2 type 8 code 0 id 7",
  // with " zone 3" appended for a zone other than 0.
  std::string ToString() const;

  friend bool operator==(const Flow&, const Flow&) = default;
};

// ---- Pure encoders and decoder ----
//
// Encoders leave nlmsg_seq and nlmsg_pid 0 (the socket stamps them). The decoder reads a message
// it did not write without trusting it: a header or an attribute that is short, overruns its
// container or has the wrong size is an Internal error naming what is wrong, never a crash.

// IPCTNL_MSG_CT_GET with NLM_F_DUMP for IPv4 entries (the kernel filters by nfgen_family).
std::vector<uint8_t> EncodeListRequest();

// IPCTNL_MSG_CT_DELETE with NLM_F_ACK for the entry whose original tuple is `flow`'s, in its
// zone. Always carries CTA_TUPLE_ORIG: a delete request without a tuple flushes the whole table.
std::vector<uint8_t> EncodeDeleteRequest(const Flow& flow);

// One IPCTNL_MSG_CT_NEW message (a dump reply or an event) as it arrived, `message` holding at
// least the bytes its nlmsg_len claims. The original tuple (CTA_TUPLE_ORIG) and zone (CTA_ZONE,
// or the tuple's own CTA_TUPLE_ZONE) of an IPv4 entry; nullopt for an entry of another family.
absl::StatusOr<std::optional<Flow>> DecodeFlow(absl::Span<const uint8_t> message);

// ---- The socket ----

// A ctnetlink socket bound to one network namespace for its whole life.
//
// Thread-compatible: one call at a time. Errors are one line naming what failed and the errno,
// "listing conntrack entries: EPERM" (codes as ErrnoStatus).
class Conntrack {
 public:
  // In the network namespace of the calling thread.
  static absl::StatusOr<std::unique_ptr<Conntrack>> Open();
  // In the namespace at `netns_path` (/run/netns/NAME, /proc/PID/ns/net), entered by a short-lived
  // thread of its own, so the caller's threads never change namespace.
  static absl::StatusOr<std::unique_ptr<Conntrack>> OpenInNamespace(const std::string& netns_path);

  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;
  ~Conntrack();

  // Every IPv4 entry of the namespace (one dump; the table is not locked, so an entry created or
  // deleted meanwhile may or may not be in it).
  absl::StatusOr<std::vector<Flow>> List();

  // Deletes every IPv4 entry whose original direction `doomed` returns true for, and returns how
  // many the kernel deleted. An entry that is gone by the time its delete arrives (expired, or
  // deleted by someone else: ENOENT) is not counted and is not an error, so calling this again is
  // harmless. The kernel's dump is not a snapshot: an entry moved while the table is resized can
  // be missed, and is deleted by the next call. The kernel refusing one delete does not stop the
  // deletes that follow; its first refusal is returned, with how many were deleted. A failure of
  // the socket itself ends the call.
  absl::StatusOr<int> DeleteIf(const std::function<bool(const Flow&)>& doomed);

 private:
  explicit Conntrack(std::unique_ptr<NetlinkSocket> socket);

  const std::unique_ptr<NetlinkSocket> socket_;
};

}  // namespace weave::netlink::conntrack
