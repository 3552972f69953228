#include "router/config.h"

#include <catch2/catch.hpp>

namespace weave::router {
namespace {

absl::StatusOr<RouterConfig> Resolve(void (*edit)(RouterFlags&)) {
  RouterFlags flags;
  edit(flags);
  return ResolveRouterConfig(flags, "node-a");
}

TEST_CASE("defaults follow the spec and the design", "[config]") {
  auto c = ResolveRouterConfig(RouterFlags(), "node-a");
  REQUIRE(c.ok());
  CHECK(c->socket_path == "/run/weave/weave.sock");
  CHECK(c->ipalloc_range.ToString() == "10.32.0.0/12");
  CHECK(c->conn_limit == 30);
  CHECK(c->mtu == 1376);
  CHECK(c->expect_npc);
  CHECK(c->no_masq_local);
  CHECK(c->hairpin);
  CHECK_FALSE(c->no_fastdp);
  CHECK_FALSE(c->checkpoint_disable);
  CHECK_FALSE(c->status_addr.has_value());
  CHECK(c->http_addr.ToString() == "127.0.0.1:6784");
  CHECK(c->metrics_addr.ToString() == "0.0.0.0:6782");
  CHECK(c->nickname == "node-a");
  CHECK(c->node_name == "node-a");
  // No peers: a consensus of one, this node.
  CHECK(c->ipalloc_init.ToString() == "consensus=1");
}

TEST_CASE("KUBE_PEERS become targets and size the consensus, counting this node", "[config]") {
  auto c = Resolve([](RouterFlags& f) { f.kube_peers = "192.168.1.2 192.168.1.3:7000"; });
  REQUIRE(c.ok());
  REQUIRE(c->peers.size() == 2);
  CHECK(c->peers[0].ToString() == "192.168.1.2:6783");
  CHECK(c->peers[1].ToString() == "192.168.1.3:7000");
  CHECK(c->ipalloc_init.ToString() == "consensus=3");
  // Positional peers win over KUBE_PEERS.
  auto p = Resolve([](RouterFlags& f) {
    f.kube_peers = "192.168.1.2";
    f.peers = {"10.0.0.9"};
  });
  REQUIRE(p.ok());
  REQUIRE(p->peers.size() == 1);
  CHECK(p->peers[0].host == "10.0.0.9");
}

TEST_CASE("bad values name the variable and the accepted form", "[config]") {
  struct Case {
    void (*edit)(RouterFlags&);
    const char* message;
  };
  Case cases[] = {
      {[](RouterFlags& f) { f.ipalloc_range = "10.32.0.0/33"; },
       "invalid IPALLOC_RANGE (--ipalloc-range) \"10.32.0.0/33\": expected an IPv4 network in "
       "CIDR form such as 10.32.0.0/12, prefix /1 to /30"},
      {[](RouterFlags& f) { f.ipalloc_range = "10.32.0.1/12"; },
       "invalid IPALLOC_RANGE (--ipalloc-range) \"10.32.0.1/12\": expected a network address "
       "without host bits, such as 10.32.0.0/12"},
      {[](RouterFlags& f) { f.conn_limit = "-1"; },
       "invalid CONN_LIMIT (--conn-limit) \"-1\": expected a whole number, 0 or more (0 means "
       "unlimited)"},
      {[](RouterFlags& f) { f.mtu = "abc"; },
       "invalid WEAVE_MTU (--mtu) \"abc\": expected a whole number of bytes from 576 to 65535, "
       "or auto (default 1376)"},
      {[](RouterFlags& f) { f.expect_npc = "maybe"; },
       "invalid EXPECT_NPC (--expect-npc) \"maybe\": expected 1 or 0 (also true/false, yes/no, "
       "on/off)"},
      {[](RouterFlags& f) { f.ipalloc_init = "consensus=0"; },
       "invalid IPALLOC_INIT (--ipalloc-init) \"consensus=0\": expected consensus, "
       "consensus=<number of nodes>, seed=<peer name>,... or observer"},
      {[](RouterFlags& f) { f.metrics_addr = "6782"; },
       "invalid WEAVE_METRICS_ADDR (--metrics-addr) \"6782\": expected host:port, such as "
       "127.0.0.1:6784"},
      {[](RouterFlags& f) { f.kube_peers = "node-1:99999"; },
       "invalid KUBE_PEERS (peers) \"node-1:99999\": expected host or host:port (port "
       "1..65535)"},
      {[](RouterFlags& f) { f.expose = "10.99.0.1"; },
       "invalid WEAVE_EXPOSE_IP (--expose) \"10.99.0.1\": expected an address inside "
       "IPALLOC_RANGE 10.32.0.0/12, optionally with its prefix length, such as 10.32.0.1/12"},
      {[](RouterFlags& f) { f.trusted_subnets = "10.0.0.0/8,bogus"; },
       "invalid WEAVE_TRUSTED_SUBNETS (--trusted-subnets) \"bogus\": expected comma-separated "
       "CIDRs such as 10.0.0.0/8,192.168.0.0/16"},
      {[](RouterFlags& f) { f.hairpin_mode = "sometimes"; },
       "invalid HAIRPIN_MODE (--hairpin-mode) \"sometimes\": expected 1 or 0 (also true/false, "
       "yes/no, on/off)"},
      {[](RouterFlags& f) { f.name = "not-a-mac"; },
       "invalid --name \"not-a-mac\": expected a MAC address such as 42:8e:e8:c4:52:1b"},
      {[](RouterFlags& f) { f.socket = "relative.sock"; },
       "invalid WEAVE_SOCKET (--socket) \"relative.sock\": expected an absolute path to a unix "
       "socket"},
  };
  for (const Case& c : cases) {
    auto result = Resolve(c.edit);
    INFO(c.message);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(result.status().message() == c.message);
  }
}

TEST_CASE("design decisions for vague variables", "[config]") {
  // NO_MASQ_LOCAL is on unless 0; the spec's "set to 1" keeps working.
  CHECK_FALSE(Resolve([](RouterFlags& f) { f.no_masq_local = "0"; })->no_masq_local);
  CHECK(Resolve([](RouterFlags& f) { f.no_masq_local = "1"; })->no_masq_local);
  CHECK(Resolve([](RouterFlags& f) { f.no_masq_local = ""; })->no_masq_local);
  // EXPECT_NPC=0 disables the gate.
  CHECK_FALSE(Resolve([](RouterFlags& f) { f.expect_npc = "0"; })->expect_npc);
  // CONN_LIMIT=0 is unlimited.
  CHECK(Resolve([](RouterFlags& f) { f.conn_limit = "0"; })->conn_limit == 0);
  // Any non-empty CHECKPOINT_DISABLE disables the check.
  CHECK(Resolve([](RouterFlags& f) { f.checkpoint_disable = "anything"; })->checkpoint_disable);
  // WEAVE_EXPOSE_IP: an address takes the range's prefix length; a CIDR is kept.
  CHECK(Resolve([](RouterFlags& f) { f.expose = "10.32.0.1"; })->expose->ToString() ==
        "10.32.0.1/12");
  CHECK(Resolve([](RouterFlags& f) { f.expose = "10.32.0.1/16"; })->expose->ToString() ==
        "10.32.0.1/16");
  CHECK(Resolve([](RouterFlags& f) { f.ipalloc_init = "consensus=5"; })->ipalloc_init.ToString() ==
        "consensus=5");
  auto trusted = Resolve([](RouterFlags& f) { f.trusted_subnets = "10.1.2.3/8, 192.168.0.0/16"; });
  REQUIRE(trusted->trusted_subnets.size() == 2);
  CHECK(trusted->trusted_subnets[0].ToString() == "10.0.0.0/8");
}

TEST_CASE("the version check asks only a URL the operator gave", "[config]") {
  auto none = ResolveRouterConfig(RouterFlags(), "node-a");
  REQUIRE(none.ok());
  CHECK(none->checkpoint_url.empty());
  auto given = Resolve([](RouterFlags& f) { f.checkpoint_url = "https://versions.example/weave"; });
  REQUIRE(given.ok());
  CHECK(given->checkpoint_url == "https://versions.example/weave");
  auto bad = Resolve([](RouterFlags& f) { f.checkpoint_url = "versions.example"; });
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "invalid CHECKPOINT_URL (--checkpoint-url) \"versions.example\": expected an http:// or "
        "https:// URL");
}

}  // namespace
}  // namespace weave::router
