#include "common/netlink/arp.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

constexpr MacAddress kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

uint8_t* PutU16(uint8_t* out, uint16_t value) {
  out[0] = static_cast<uint8_t>(value >> 8);
  out[1] = static_cast<uint8_t>(value);
  return out + 2;
}

uint8_t* PutIpv4(uint8_t* out, net::Ipv4 ip) {
  out = PutU16(out, static_cast<uint16_t>(ip.value() >> 16));
  return PutU16(out, static_cast<uint16_t>(ip.value()));
}

uint8_t* PutMac(uint8_t* out, const MacAddress& mac) {
  std::memcpy(out, mac.data(), mac.size());
  return out + mac.size();
}

}  // namespace

std::array<uint8_t, 28> EncodeGratuitousArp(net::Ipv4 ip, const MacAddress& mac) {
  std::array<uint8_t, 28> packet{};
  uint8_t* out = PutU16(packet.data(), ARPHRD_ETHER);
  out = PutU16(out, ETH_P_IP);
  *out++ = ETH_ALEN;
  *out++ = 4;  // IPv4 address length
  out = PutU16(out, ARPOP_REQUEST);
  out = PutMac(out, mac);
  out = PutIpv4(out, ip);
  out = PutMac(out, kBroadcast);
  PutIpv4(out, ip);
  return packet;
}

absl::Status SendGratuitousArp(absl::string_view ifname, net::Ipv4 ip, const MacAddress& mac) {
  const std::string what =
      absl::StrCat("sending gratuitous ARP for ", ip.ToString(), " on ", ifname);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(ifname), what));
  const int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) return ErrnoStatus(errno, what);
  absl::Cleanup close_fd = [fd] { close(fd); };

  ifreq request{};
  std::memcpy(request.ifr_name, ifname.data(), ifname.size());
  if (ioctl(fd, SIOCGIFINDEX, &request) < 0) return ErrnoStatus(errno, what);

  sockaddr_ll destination{};
  destination.sll_family = AF_PACKET;
  destination.sll_protocol = htons(ETH_P_ARP);
  destination.sll_ifindex = request.ifr_ifindex;
  destination.sll_halen = ETH_ALEN;
  std::memcpy(destination.sll_addr, kBroadcast.data(), kBroadcast.size());

  const std::array<uint8_t, 28> packet = EncodeGratuitousArp(ip, mac);
  if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&destination),
             sizeof(destination)) < 0) {
    return ErrnoStatus(errno, what);
  }
  return absl::OkStatus();
}

}  // namespace weave::netlink
