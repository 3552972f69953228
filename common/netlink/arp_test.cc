#include "common/netlink/arp.h"

#include <catch2/catch.hpp>
#include <vector>

namespace weave::netlink {
namespace {

TEST_CASE("netlink: a gratuitous ARP announces the address as both sender and target",
          "[netlink]") {
  const std::array<uint8_t, 28> packet =
      EncodeGratuitousArp(*net::Ipv4::Parse("10.32.0.5"), {0x02, 0x42, 0xac, 0x11, 0x00, 0x02});
  const std::array<uint8_t, 28> expected = {
      0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,  // Ethernet, IPv4, 6, 4, request
      0x02, 0x42, 0xac, 0x11, 0x00, 0x02,              // sender MAC
      0x0a, 0x20, 0x00, 0x05,                          // sender IP
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,              // target MAC: broadcast
      0x0a, 0x20, 0x00, 0x05,                          // target IP = sender IP
  };
  CHECK(packet == expected);
}

TEST_CASE("netlink: a gratuitous ARP on an invalid interface name fails before any socket",
          "[netlink]") {
  CHECK(SendGratuitousArp("bad/name", net::Ipv4(1), {0x02, 0, 0, 0, 0, 1}).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weave::netlink
