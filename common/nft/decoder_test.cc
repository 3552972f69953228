#include "common/nft/decoder.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <catch2/catch.hpp>

#include "common/nft/encoder.h"
#include "common/nft/testdata.h"
#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using testdata::Net;

Rule RoundTrip(Family family, const Rule& rule) {
  absl::StatusOr<NftnlRulePtr> encoded = EncodeRule(TableId{family, "t"}, "c", rule);
  REQUIRE_OK(encoded);
  return DecodeRule(**encoded);
}

TEST_CASE("every rule of the shared tables decodes back to itself") {
  for (const Table& table : {testdata::RouterTable(), testdata::PolicyTable()}) {
    for (const Chain& chain : table.chains) {
      for (const Rule& rule : chain.rules) {
        INFO(ToText(rule));
        const Rule decoded = RoundTrip(table.family, rule);
        CHECK(decoded.undecoded == "");
        CHECK(decoded == rule);
      }
    }
  }
}

TEST_CASE("decoding covers each family's dependencies and address forms") {
  const Rule rule{{Is(Field::kIpSaddr, Net("0.0.0.0/0")), IsNot(Field::kIpDaddr, Net("10.0.0.0/8")),
                   Is(Field::kIpSaddr, Net("10.32.0.0/12")), Is(Field::kIpDaddr, Net("1.2.3.4/32")),
                   Is(Field::kIpSaddr, Net("10.1.2.0/24")), Is(Field::kSctpDport, Port(7)),
                   Is(Field::kOifname, Ifname{"weave"}), IsNot(Field::kIifname, Ifname{"veth*"}),
                   Drop()}};
  for (Family family : {Family::kInet, Family::kIp, Family::kBridge}) {
    INFO(FamilyName(family));
    CHECK(RoundTrip(family, rule) == rule);
  }
}

TEST_CASE("a rule in an encoding the model lacks comes back undecoded, not as an error") {
  NftnlRulePtr rule = NftnlAlloc<nftnl_rule>();
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, "t");
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, "c");
  nftnl_rule_set_u64(rule.get(), NFTNL_RULE_HANDLE, 9);
  // `meta nfproto ipv4 accept`: a protocol check with no IPv4 match after it.
  nftnl_expr* meta = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr(rule.get(), meta);
  nftnl_expr* cmp = nftnl_expr_alloc("cmp");
  const uint8_t ipv4 = NFPROTO_IPV4;
  nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &ipv4, sizeof(ipv4));
  nftnl_rule_add_expr(rule.get(), cmp);
  nftnl_rule_add_expr(rule.get(), nftnl_expr_alloc("quota"));

  const Rule decoded = DecodeRule(*rule);
  CHECK(decoded.statements.empty());
  CHECK(decoded.handle == 9);
  CHECK(decoded.undecoded == RuleText(*rule));
  CHECK_FALSE(decoded == Rule{});
}

std::string Key32(uint32_t value) {
  const uint32_t network = htonl(value);
  return std::string(reinterpret_cast<const char*>(&network), 4);
}

std::string Key16(uint16_t value) {
  const uint16_t network = htons(value);
  return std::string(reinterpret_cast<const char*>(&network), 2);
}

TEST_CASE("interval elements pair up into CIDRs and ranges, in any order") {
  // As nft writes { 10.0.0.0/24, 10.0.1.0/24, 192.168.0.0/16, 255.255.255.255 }: a leading end
  // at 0, adjacent intervals sharing a key, and an open end.
  std::vector<RawElement> raw = {
      {Key32(0xffffffff), false}, {Key32(0xc0a90000), true},  {Key32(0xc0a80000), false},
      {Key32(0x0a000200), true},  {Key32(0x0a000100), false}, {Key32(0x0a000100), true},
      {Key32(0x0a000000), false}, {Key32(0), true},
  };
  ASSIGN_OR_REQUIRE(const std::vector<Element> elements,
                    DecodeElements(SetKeyType::kIpv4Addr, true, raw));
  CHECK(elements == std::vector<Element>{Net("10.0.0.0/24"), Net("10.0.1.0/24"),
                                         Net("192.168.0.0/16"), Net("255.255.255.255/32")});

  // A range that is no single CIDR becomes the fewest CIDRs covering it: 10.0.0.1-10.0.0.6.
  ASSIGN_OR_REQUIRE(const std::vector<Element> split,
                    DecodeElements(SetKeyType::kIpv4Addr, true,
                                   {{Key32(0x0a000001), false}, {Key32(0x0a000007), true}}));
  CHECK(split == std::vector<Element>{Net("10.0.0.1/32"), Net("10.0.0.2/31"), Net("10.0.0.4/31"),
                                      Net("10.0.0.6/32")});

  ASSIGN_OR_REQUIRE(const std::vector<Element> ports, DecodeElements(SetKeyType::kInetService, true,
                                                                     {{Key16(65535), false},
                                                                      {Key16(81), true},
                                                                      {Key16(80), false},
                                                                      {Key16(8101), true},
                                                                      {Key16(8000), false}}));
  CHECK(ports == std::vector<Element>{Port(80), PortRange{8000, 8100}, Port(65535)});
}

TEST_CASE("plain elements decode by key type") {
  ASSIGN_OR_REQUIRE(const std::vector<Element> names,
                    DecodeElements(SetKeyType::kIfname, false,
                                   {{ElementKey(SetKeyType::kIfname, Ifname{"weave"}), false}}));
  CHECK(names == std::vector<Element>{Ifname{"weave"}});
  ASSIGN_OR_REQUIRE(const std::vector<Element> marks,
                    DecodeElements(SetKeyType::kMark, false,
                                   {{ElementKey(SetKeyType::kMark, Mark{0x4000}), false}}));
  CHECK(marks == std::vector<Element>{Mark{0x4000}});
  CHECK(DecodeElements(SetKeyType::kMark, false, {{"ab", false}}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  const AddrProtoPort dns{testdata::Addr("10.32.0.10"), kUdp, 53};
  const AddrProtoPort web{testdata::Addr("10.32.0.5"), kTcp, 8080};
  ASSIGN_OR_REQUIRE(const std::vector<Element> triples,
                    DecodeElements(SetKeyType::kIpv4AddrProtoService, false,
                                   {{ElementKey(SetKeyType::kIpv4AddrProtoService, dns), false},
                                    {ElementKey(SetKeyType::kIpv4AddrProtoService, web), false}}));
  CHECK(triples == std::vector<Element>{web, dns});
  std::string padded = ElementKey(SetKeyType::kIpv4AddrProtoService, web);
  padded[7] = 1;
  CHECK(
      DecodeElements(SetKeyType::kIpv4AddrProtoService, false, {{padded, false}}).status().code() ==
      absl::StatusCode::kInvalidArgument);
}

TEST_CASE(
    "a concatenation decodes whether its first register is named reg 1 or its 32-bit "
    "alias") {
  const Rule rule{{InSet(Field::kIpDaddrL4ProtoThDport, "s"),
                   Is(Field::kIpSaddr, Net("10.0.0.0/8")), Accept()}};
  CHECK(RoundTrip(Family::kInet, rule) == rule);
  ASSIGN_OR_REQUIRE(NftnlRulePtr encoded,
                    EncodeRule(TableId{Family::kIp, "t"}, "c",
                               Rule{{NotInSet(Field::kIpDaddrL4ProtoThDport, "s"), Drop()}}));
  nftnl_expr_iter* iter = nftnl_expr_iter_create(encoded.get());
  for (nftnl_expr* e = nftnl_expr_iter_next(iter); e != nullptr; e = nftnl_expr_iter_next(iter)) {
    const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (name == "payload" && nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG) == NFT_REG_1) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_00);
    }
    if (name == "lookup") nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
  }
  nftnl_expr_iter_destroy(iter);
  CHECK_THAT(RuleText(*encoded), Catch::Matchers::Contains("=> reg 8 ]"));
  CHECK(DecodeRule(*encoded) == Rule{{NotInSet(Field::kIpDaddrL4ProtoThDport, "s"), Drop()}});

  // Without the lookup, or with the parts in other registers, it is not ours.
  ASSIGN_OR_REQUIRE(NftnlRulePtr other,
                    EncodeRule(TableId{Family::kIp, "t"}, "c",
                               Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "s")}}));
  iter = nftnl_expr_iter_create(other.get());
  for (nftnl_expr* e = nftnl_expr_iter_next(iter); e != nullptr; e = nftnl_expr_iter_next(iter)) {
    if (std::string(nftnl_expr_get_str(e, NFTNL_EXPR_NAME)) == "meta") {
      nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG32_03);
    }
  }
  nftnl_expr_iter_destroy(iter);
  CHECK_FALSE(DecodeRule(*other).undecoded.empty());
}

}  // namespace
}  // namespace weave::nft
