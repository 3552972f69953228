#include "router/overlay/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "router/overlay/sleeve_wire.h"

namespace weave::overlay {

absl::StatusOr<Tap> OpenTap(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat("TAP name \"", name, "\" is not 1 to ", IFNAMSIZ - 1, " characters"));
  }
  const std::string what = absl::StrCat("opening TAP ", name);
  mesh::Fd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return netlink::ErrnoStatus(errno, absl::StrCat(what, ": /dev/net/tun"));

  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd.get(), TUNSETIFF, &request) < 0) {
    return netlink::ErrnoStatus(errno, absl::StrCat(what, ": TUNSETIFF"));
  }
  int header_size = kVirtioHeaderSize;
  if (ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) < 0) {
    return netlink::ErrnoStatus(errno, absl::StrCat(what, ": TUNSETVNETHDRSZ"));
  }
  int little_endian = 1;
  if (ioctl(fd.get(), TUNSETVNETLE, &little_endian) < 0) {
    return netlink::ErrnoStatus(errno, absl::StrCat(what, ": TUNSETVNETLE"));
  }
  unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | kTunFUso4 | kTunFUso6;
  if (ioctl(fd.get(), TUNSETOFFLOAD, offloads) < 0) {
    // Kernels before 6.2 reject the flags they do not know.
    offloads &= ~(kTunFUso4 | kTunFUso6);
    if (ioctl(fd.get(), TUNSETOFFLOAD, offloads) < 0) {
      return netlink::ErrnoStatus(errno, absl::StrCat(what, ": TUNSETOFFLOAD"));
    }
  }
  request.ifr_name[IFNAMSIZ - 1] = '\0';
  return Tap{.fd = std::move(fd), .name = request.ifr_name, .offloads = offloads};
}

}  // namespace weave::overlay
