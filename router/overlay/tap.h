// A TAP device for the sleeve: the bridge's port through which frames leave for and arrive from
// other nodes.
//
// Opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: every read returns, and every write takes, a
// 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ 10, the plain header without num_buffers, which
// only matters for mergeable receive buffers; little-endian on every host through TUNSETVNETLE)
// followed by the Ethernet frame. Offloads (TUNSETOFFLOAD) are checksum, TSO4, TSO6 and TSO with
// ECN, plus USO4/USO6 when the kernel accepts them (6.2 and later): the kernel then hands us TCP
// flows as GSO super-frames of up to 64 KB, with the checksum left to whoever segments them, and
// accepts the same from us. The fd is non-blocking and close-on-exec.
//
// The device exists while the fd is open; it is created down, in the calling thread's network
// namespace. The caller attaches it (netlink: SetMtu, SetMaster, SetUp).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "router/mesh/socket.h"

namespace weave::overlay {

struct Tap {
  mesh::Fd fd;
  std::string name;   // As the kernel named it (`name` may hold a "%d" template).
  unsigned offloads;  // The TUN_F_* bits the kernel accepted.
};

// Errors: NotFound when /dev/net/tun is missing; PermissionDenied without CAP_NET_ADMIN;
// InvalidArgument for a name the kernel rejects; Unavailable (EBUSY) when a device of that name
// exists and is not a free TAP.
absl::StatusOr<Tap> OpenTap(const std::string& name);

// The TUN_F_* offload bits that OpenTap asks for (it retries without the USO bits).
inline constexpr unsigned kTunFUso4 = 0x20;  // Newer than the userspace headers here.
inline constexpr unsigned kTunFUso6 = 0x40;

}  // namespace weave::overlay
