#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <functional>
#include <vector>

#include "common/netlink/message.h"
#include "test/harness/status_assertions.h"

namespace weave::netlink {
namespace {

// The golden bytes below are for a little-endian host, like every machine we build for.

std::vector<uint8_t> Bytes(const Request& request) {
  return {request.bytes().begin(), request.bytes().end()};
}

net::Ipv4 Ip(absl::string_view text) { return *net::Ipv4::Parse(text); }

TEST_CASE("netlink: FDB entries are added as `bridge fdb append ... self permanent`", "[netlink]") {
  const MacAddress mac = {0x02, 0x42, 0, 0, 0, 0x07};
  const std::vector<uint8_t> expected = {
      0x30, 0x00, 0x00, 0x00,
      0x1c, 0x00, 0x05, 0x0c,  // len 48, RTM_NEWNEIGH, REQ|ACK|CREATE|APPEND
      0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00,  // seq, pid
      0x07, 0x00, 0x00, 0x00,
      0x05, 0x00, 0x00, 0x00,  // AF_BRIDGE, pads, ifindex 5
      0xc0, 0x00, 0x02, 0x00,  // NUD_PERMANENT|NUD_NOARP, NTF_SELF, type
      0x0a, 0x00, 0x02, 0x00,
      0x02, 0x42, 0x00, 0x00,  // NDA_LLADDR 02:42:00:00:00:07
      0x00, 0x07, 0x00, 0x00,  //
      0x08, 0x00, 0x01, 0x00,
      0x0a, 0x20, 0x00, 0x02,  // NDA_DST 10.32.0.2
  };
  CHECK(Bytes(EncodeAddFdb(5, mac, Ip("10.32.0.2"))) == expected);

  // Deleting names the same entry, and only asks for an ack.
  std::vector<uint8_t> deletion = expected;
  deletion[4] = RTM_DELNEIGH;
  deletion[6] = NLM_F_REQUEST | NLM_F_ACK;
  deletion[7] = 0;
  CHECK(Bytes(EncodeDeleteFdb(5, mac, Ip("10.32.0.2"))) == deletion);

  // A dump names the device, with nothing a strict socket would reject.
  const Request dump = EncodeListFdb(5);
  CHECK(dump.header()->nlmsg_type == RTM_GETNEIGH);
  CHECK((dump.header()->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
  CHECK(dump.header()->nlmsg_len == MNL_NLMSG_HDRLEN + sizeof(ndmsg));
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(dump.header()));
  CHECK(ndm->ndm_family == AF_BRIDGE);
  CHECK(ndm->ndm_ifindex == 5);
  CHECK(ndm->ndm_state == 0);
  CHECK(ndm->ndm_flags == 0);
}

// A kernel-like AF_BRIDGE RTM_NEWNEIGH.
Request FdbReply(uint16_t state, uint8_t flags, const std::function<void(Request&)>& add) {
  ndmsg* ndm;
  Request reply = Request::WithHeader(RTM_NEWNEIGH, NLM_F_MULTI, &ndm);
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = 6;
  ndm->ndm_state = state;
  ndm->ndm_flags = flags;
  add(reply);
  return reply;
}

TEST_CASE("netlink: FDB entries decode from RTM_NEWNEIGH", "[netlink]") {
  const MacAddress mac = {0x02, 0x42, 0, 0, 0, 0x07};
  // What we send, we can read back.
  const Request added = EncodeAddFdb(6, mac, Ip("10.32.0.2"));
  ASSIGN_OR_REQUIRE(const std::optional<FdbRecord> remote, DecodeFdb(*added.header()));
  CHECK(remote == FdbRecord{6, {mac, Ip("10.32.0.2"), /*permanent=*/true, /*self=*/true}});

  // A bridge's entry (NDA_MASTER, no NTF_SELF) that it learned, with attributes we do not read.
  const Request learned = FdbReply(NUD_REACHABLE, 0, [&](Request& r) {
    r.PutBytes(NDA_LLADDR, mac);
    r.PutU32(NDA_MASTER, 3);
    r.PutBytes(NDA_CACHEINFO, std::vector<uint8_t>(16));
  });
  ASSIGN_OR_REQUIRE(const std::optional<FdbRecord> bridge, DecodeFdb(*learned.header()));
  CHECK(bridge == FdbRecord{6, {mac, std::nullopt, /*permanent=*/false, /*self=*/false}});

  // Entries FdbEntry does not describe.
  const Request ipv6 = FdbReply(NUD_PERMANENT, NTF_SELF, [&](Request& r) {
    r.PutBytes(NDA_LLADDR, mac);
    r.PutBytes(NDA_DST, std::vector<uint8_t>(16, 0xfd));
  });
  CHECK(DecodeFdb(*ipv6.header()).value() == std::nullopt);
  const Request long_address = FdbReply(NUD_PERMANENT, NTF_SELF, [](Request& r) {
    r.PutBytes(NDA_LLADDR, std::vector<uint8_t>(20, 0x80));
  });
  CHECK(DecodeFdb(*long_address.header()).value() == std::nullopt);
  Request inet = FdbReply(NUD_REACHABLE, 0, [&](Request& r) { r.PutBytes(NDA_LLADDR, mac); });
  static_cast<ndmsg*>(mnl_nlmsg_get_payload(inet.header()))->ndm_family = AF_INET;
  CHECK(DecodeFdb(*inet.header()).value() == std::nullopt);
}

TEST_CASE("netlink: malformed FDB messages are errors, not crashes", "[netlink]") {
  auto expect_internal = [](const Request& reply) {
    const absl::StatusOr<std::optional<FdbRecord>> record = DecodeFdb(*reply.header());
    INFO(record.status().ToString());
    CHECK(record.status().code() == absl::StatusCode::kInternal);
  };
  const MacAddress mac = {0x02, 0x42, 0, 0, 0, 0x07};
  expect_internal(FdbReply(NUD_PERMANENT, NTF_SELF, [](Request&) {}));  // No address.
  expect_internal(FdbReply(NUD_PERMANENT, NTF_SELF, [&](Request& r) {   // A 3-byte remote.
    r.PutBytes(NDA_LLADDR, mac);
    r.PutBytes(NDA_DST, std::vector<uint8_t>{10, 0, 0});
  }));
  Request short_reply = FdbReply(0, 0, [](Request&) {});
  short_reply.header()->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
  expect_internal(short_reply);
  expect_internal(EncodeCreateBridge("weave", 1376));  // Not a neighbour message at all.

  // An address that overruns the message is not read.
  Request overrun = FdbReply(NUD_PERMANENT, NTF_SELF, [&](Request& r) {
    r.PutBytes(NDA_DST, std::vector<uint8_t>{10, 0, 0, 1});
    r.PutBytes(NDA_LLADDR, mac);
  });
  auto* lladdr = reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(overrun.header()) +
                                           overrun.header()->nlmsg_len - 12);
  lladdr->nla_len = 200;
  expect_internal(overrun);
}

}  // namespace
}  // namespace weave::netlink
