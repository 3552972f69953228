// The pure layer of the nfnetlink_log adapter: the bind request byte for byte, and packet
// messages (built here the way nfnetlink_log sends them) decoded, never a crash on anything else.
#include "common/netlink/nflog.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace weave::netlink::nflog::internal {
namespace {

using Bytes = std::vector<uint8_t>;

// The first 24 bytes of a TCP packet 10.32.0.7:56648 -> 10.32.0.11:80, as a copy range cuts it.
// The decoder does not read them.
Bytes TcpHead() {
  const std::string bytes = absl::HexStringToBytes(
      "450000280000400040060000"  // IPv4, 20-byte header, total length 40, DF, TTL 64, TCP
      "0a200007"                  // 10.32.0.7
      "0a20000b"                  // 10.32.0.11
      "dd480050"                  // ports 56648 -> 80
  );
  return Bytes(bytes.begin(), bytes.end());
}

// A decoding error is one non-empty line.
void CheckOneLineError(const absl::Status& status) {
  REQUIRE(absl::IsInvalidArgument(status));
  CHECK_FALSE(status.message().empty());
  CHECK_FALSE(absl::StrContains(status.message(), "\n"));
}

TEST_CASE("the bind request binds the group, copies 128 bytes and asks for an ack") {
  // Written out by hand from <linux/netfilter/nfnetlink_log.h> (host order is little-endian):
  // nlmsghdr {len 48, type NFNL_SUBSYS_ULOG<<8|NFULNL_MSG_CONFIG, flags REQUEST|ACK, seq 7, pid 0}
  // nfgenmsg {AF_UNSPEC, NFNETLINK_V0, res_id htons(86)}
  // NFULA_CFG_CMD {BIND} (5 bytes, padded to 8)
  // NFULA_CFG_MODE {copy_range htonl(128), NFULNL_COPY_PACKET, pad} (10 bytes, padded to 12)
  // NFULA_CFG_QTHRESH htonl(1)
  CHECK(absl::BytesToHexString(
            std::string(reinterpret_cast<const char*>(EncodeBindRequest(86, 128, 7).data()), 48)) ==
        "30000000010405000700000000000000"
        "00000056"
        "0500010001000000"
        "0a0002000000008002000000"
        "0800050000000001");
  CHECK(EncodeBindRequest(86, 128, 7).size() == 48);
}

// A NFULNL_MSG_PACKET message as nfnetlink_log sends it.
Bytes PacketMessage(uint8_t family, const std::optional<Bytes>& payload,
                    const std::optional<std::string>& prefix) {
  Bytes buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = family;
  nfg->res_id = htons(86);
  nfulnl_msg_packet_hdr header{htons(0x0800), 3, 0};
  mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(header), &header);
  mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(1));
  if (payload.has_value()) mnl_attr_put(nlh, NFULA_PAYLOAD, payload->size(), payload->data());
  if (prefix.has_value()) mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix->c_str());
  buffer.resize(nlh->nlmsg_len);
  return buffer;
}

TEST_CASE("a packet message decodes into its prefix and payload") {
  const absl::StatusOr<std::optional<LoggedPacket>> decoded =
      DecodePacketMessage(PacketMessage(AF_INET, TcpHead(), "weave-npc ingress: "));
  REQUIRE(decoded.ok());
  REQUIRE(decoded->has_value());
  CHECK(**decoded == LoggedPacket{"weave-npc ingress: ", TcpHead()});

  // What the payload holds is for the caller to judge: two bytes are delivered as two bytes.
  const absl::StatusOr<std::optional<LoggedPacket>> truncated =
      DecodePacketMessage(PacketMessage(AF_INET, Bytes{0x45, 0}, "x"));
  REQUIRE(truncated.ok());
  REQUIRE(truncated->has_value());
  CHECK(**truncated == LoggedPacket{"x", Bytes{0x45, 0}});
}

TEST_CASE("IPv6 packets and other messages decode to nothing") {
  CHECK(DecodePacketMessage(PacketMessage(AF_INET6, Bytes(48, 0x60), "x"))->has_value() == false);
  Bytes config = EncodeBindRequest(86, 128, 1);
  CHECK(DecodePacketMessage(config)->has_value() == false);
}

TEST_CASE("malformed packet messages are errors, never crashes") {
  CheckOneLineError(DecodePacketMessage(PacketMessage(AF_INET, std::nullopt, "x")).status());
  CHECK(DecodePacketMessage(PacketMessage(AF_INET, std::nullopt, "x")).status().message() ==
        "NFULNL_MSG_PACKET without NFULA_PAYLOAD");

  // A prefix without its NUL ends where its attribute does.
  Bytes message = PacketMessage(AF_INET, TcpHead(), "abc");
  message.back() = 'd';  // "abc\0" -> "abcd", no NUL
  const absl::StatusOr<std::optional<LoggedPacket>> no_nul = DecodePacketMessage(message);
  REQUIRE(no_nul.ok());
  CHECK((*no_nul)->prefix == "abcd");

  // Every cut of a valid message, with the length field kept or made to match.
  const Bytes whole = PacketMessage(AF_INET, TcpHead(), "weave-npc: ");
  for (size_t length = 0; length < whole.size(); ++length) {
    Bytes cut(whole.begin(), whole.begin() + length);
    (void)DecodePacketMessage(cut);
    if (length >= 4) {
      const uint32_t nlmsg_len = static_cast<uint32_t>(length);
      std::memcpy(cut.data(), &nlmsg_len, sizeof(nlmsg_len));
      (void)DecodePacketMessage(cut);
    }
  }
  // And random damage after the netlink header.
  std::mt19937 random(6);
  for (int i = 0; i < 20000; ++i) {
    Bytes bytes = whole;
    for (int flips = 1 + random() % 6; flips > 0; --flips) {
      bytes[16 + random() % (bytes.size() - 16)] = random();
    }
    const absl::StatusOr<std::optional<LoggedPacket>> decoded = DecodePacketMessage(bytes);
    if (!decoded.ok()) CheckOneLineError(decoded.status());
  }
}

}  // namespace
}  // namespace weave::netlink::nflog::internal
