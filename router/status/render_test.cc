#include "router/status/render.h"

#include <catch2/catch.hpp>

#include "absl/time/time.h"

namespace weave::status {
namespace {

v1::Status ThreePeerStatus() {
  v1::Status s;
  s.set_version("2.0.1");
  v1::RouterStatus* r = s.mutable_router();
  r->set_protocol("weave");
  r->set_protocol_min_version(1);
  r->set_protocol_max_version(2);
  r->set_name("42:8e:e8:c4:52:1b");
  r->set_nickname("host-0");
  r->set_peer_discovery(true);
  for (const char* t : {"10.128.0.5", "10.128.0.6", "10.128.0.7"}) r->add_targets(t);
  const char* names[] = {"42:8e:e8:c4:52:1b", "7e:21:4a:70:2f:45", "9a:11:22:33:44:55"};
  for (int i = 0; i < 3; ++i) {
    v1::Peer* p = r->add_peers();
    p->set_name(names[i]);
    p->set_nickname("host-" + std::to_string(i));
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      v1::PeerConnection* c = p->add_connections();
      c->set_name(names[j]);
      c->set_nickname("host-" + std::to_string(j));
      c->set_address("10.128.0." + std::to_string(4 + j) + ":6783");
      c->set_outbound(j > i);
      c->set_established(true);
    }
  }
  v1::Connection* c1 = r->add_connections();
  c1->set_address("10.128.0.5:6783");
  c1->set_outbound(true);
  c1->set_state("established");
  c1->set_info("fastdp 7e:21:4a:70:2f:45(host-1)");
  (*c1->mutable_attrs())["mtu"] = "1376";
  (*c1->mutable_attrs())["encrypted"] = "true";
  (*c1->mutable_attrs())["name"] = "fastdp";
  v1::Connection* c2 = r->add_connections();
  *c2 = *c1;
  c2->set_outbound(false);
  c2->set_address("10.128.0.6:40012");
  v1::Connection* c3 = r->add_connections();
  c3->set_address("10.128.0.7:6783");
  c3->set_outbound(true);
  c3->set_state("failed");
  c3->set_info("connect: connection refused, retry: 2026-11-26 13:49:29");
  v1::IpamStatus* ipam = s.mutable_ipam();
  ipam->set_state(v1::IpamStatus::READY);
  ipam->set_range("10.32.0.0/12");
  ipam->set_default_subnet("10.32.0.0/12");
  return s;
}

TEST_CASE("RenderStatus matches the spec's block", "[status]") {
  CHECK(RenderStatus(ThreePeerStatus()) ==
        "        Version: 2.0.1 (version check update disabled)\n"
        "\n"
        "        Service: router\n"
        "       Protocol: weave 1..2\n"
        "           Name: 42:8e:e8:c4:52:1b(host-0)\n"
        "     Encryption: disabled\n"
        "  PeerDiscovery: enabled\n"
        "        Targets: 3\n"
        "    Connections: 3 (2 established, 1 failed)\n"
        "          Peers: 3 (with 6 established connections)\n"
        " TrustedSubnets: none\n"
        "\n"
        "        Service: ipam\n"
        "         Status: ready\n"
        "          Range: 10.32.0.0/12\n"
        "  DefaultSubnet: 10.32.0.0/12\n");
}

TEST_CASE("RenderStatus of a lone peer omits empty counts", "[status]") {
  v1::Status s;
  s.set_version("0.1.0");
  s.mutable_version_check()->set_enabled(false);
  v1::RouterStatus* r = s.mutable_router();
  r->set_protocol("weave");
  r->set_protocol_min_version(2);
  r->set_protocol_max_version(2);
  r->set_encryption(true);
  r->add_trusted_subnets("10.0.0.0/8");
  r->add_trusted_subnets("192.168.0.0/16");
  r->add_peers()->set_name("aa:bb:cc:dd:ee:ff");
  s.mutable_ipam()->set_state(v1::IpamStatus::AWAITING_CONSENSUS);
  s.mutable_ipam()->set_consensus_quorum(2);
  s.mutable_ipam()->set_consensus_known(1);
  std::string text = RenderStatus(s);
  CHECK_THAT(text, Catch::Contains("       Protocol: weave 2\n"));
  CHECK_THAT(text, Catch::Contains("     Encryption: enabled\n"));
  CHECK_THAT(text, Catch::Contains("    Connections: 0\n"));
  CHECK_THAT(text, Catch::Contains("          Peers: 1\n"));
  CHECK_THAT(text, Catch::Contains(" TrustedSubnets: 10.0.0.0/8, 192.168.0.0/16\n"));
  CHECK_THAT(text, Catch::Contains("         Status: awaiting consensus (quorum: 2, known: 1)\n"));
}

TEST_CASE("RenderConnections prints attributes without separators", "[status]") {
  std::string text = RenderConnections(ThreePeerStatus());
  CHECK(text ==
        "-> 10.128.0.5:6783       established fastdp 7e:21:4a:70:2f:45(host-1) "
        "encrypted=truemtu=1376\n"
        "<- 10.128.0.6:40012      established fastdp 7e:21:4a:70:2f:45(host-1) "
        "encrypted=truemtu=1376\n"
        "-> 10.128.0.7:6783       failed      connect: connection refused, retry: "
        "2026-11-26 13:49:29 \n");
}

TEST_CASE("RenderPeers lists each peer and its connections", "[status]") {
  std::string text = RenderPeers(ThreePeerStatus());
  CHECK_THAT(text, Catch::StartsWith(
                       "42:8e:e8:c4:52:1b(host-0)\n"
                       "   -> 10.128.0.5:6783       7e:21:4a:70:2f:45(host-1)             "
                       "established\n"));
}

TEST_CASE("RenderTargets prints one target per line", "[status]") {
  CHECK(RenderTargets(ThreePeerStatus()) == "10.128.0.5\n10.128.0.6\n10.128.0.7\n");
}

TEST_CASE("RenderIpam prints our share first, then others", "[status]") {
  v1::Status s = ThreePeerStatus();
  v1::IpamStatus* ipam = s.mutable_ipam();
  ipam->set_range_num_ips(1048576);
  ipam->set_active_ips(3);
  auto add = [&](const char* token, uint64_t size, const char* peer, const char* nick,
                 bool known) {
    v1::RingEntry* e = ipam->add_entries();
    e->set_token(token);
    e->set_size(size);
    e->set_peer(peer);
    e->set_nickname(nick);
    e->set_is_known_peer(known);
  };
  add("10.32.0.0", 524288, "42:8e:e8:c4:52:1b", "host-0", true);
  add("10.40.0.0", 262144, "7e:21:4a:70:2f:45", "host-1", true);
  add("10.44.0.0", 262144, "9a:11:22:33:44:55", "host-2", false);
  CHECK(RenderIpam(s) ==
        "42:8e:e8:c4:52:1b(host-0)               524288 IPs (50.0% of total) (3 active)\n"
        "7e:21:4a:70:2f:45(host-1)               262144 IPs (25.0% of total) \n"
        "9a:11:22:33:44:55(host-2)               262144 IPs (25.0% of total) - unreachable!\n");
}

TEST_CASE("RenderStatus shows weave-npc once it reported", "[status]") {
  v1::Status s = ThreePeerStatus();
  s.mutable_npc_gate()->set_expected(true);
  s.mutable_npc_gate()->set_open(true);
  v1::PolicyStatus* npc = s.mutable_npc();
  npc->set_first_sync_done(true);
  npc->set_policies(5);
  npc->add_rejected_policies("default/odd: a port name that no container has");
  npc->set_rules(31);
  npc->set_chains(9);
  npc->set_sets(14);
  npc->set_elements(120);
  npc->set_last_sync_unix_seconds(1790000000);
  CHECK_THAT(RenderStatus(s), Catch::EndsWith("  DefaultSubnet: 10.32.0.0/12\n"
                                              "\n"
                                              "        Service: npc\n"
                                              "         Status: ready\n"
                                              "       Policies: 5 (1 unenforceable)\n"
                                              "          Rules: 31 in 9 chains\n"
                                              "           Sets: 14 with 120 elements\n"
                                              "       LastSync: " +
                                              TimeText(1790000000) + "\n"));

  // Counts without their detail, and sync errors with the last one.
  npc->clear_rejected_policies();
  npc->set_chains(0);
  npc->set_elements(0);
  npc->set_sync_errors(2);
  npc->set_last_error("applying table inet weave-npc: ENOBUFS");
  std::string text = RenderStatus(s);
  CHECK_THAT(text, Catch::Contains("       Policies: 5\n"
                                   "          Rules: 31\n"
                                   "           Sets: 14\n"));
  CHECK_THAT(
      text, Catch::EndsWith("     SyncErrors: 2 (last: applying table inet weave-npc: ENOBUFS)\n"));
}

TEST_CASE("RenderStatus says when the gate waits for weave-npc", "[status]") {
  v1::Status s = ThreePeerStatus();
  // EXPECT_NPC=0 and no report: no section.
  s.mutable_npc_gate()->set_open(true);
  CHECK_THAT(RenderStatus(s), !Catch::Contains("Service: npc"));

  s.mutable_npc_gate()->set_expected(true);
  s.mutable_npc_gate()->set_open(false);
  CHECK_THAT(RenderStatus(s),
             Catch::EndsWith("  DefaultSubnet: 10.32.0.0/12\n"
                             "\n"
                             "        Service: npc\n"
                             "         Status: waiting for weave-npc's first sync (new "
                             "connections to local pods are blocked)\n"));

  // Reported, not synced yet.
  s.mutable_npc()->set_policies(1);
  std::string text = RenderStatus(s);
  CHECK_THAT(text, Catch::Contains("         Status: waiting for weave-npc's first sync (new "
                                   "connections to local pods are blocked)\n"
                                   "       Policies: 1\n"));
  CHECK_THAT(text, Catch::EndsWith("       LastSync: never\n"));

  // A restarted weave-npc before its first sync, behind a gate that stays open.
  s.mutable_npc_gate()->set_open(true);
  CHECK_THAT(RenderStatus(s), Catch::Contains("Status: waiting for weave-npc's first sync\n"));

  // A restarted router finds the gate open; weave-npc has not reported to it yet.
  s.clear_npc();
  CHECK_THAT(RenderStatus(s),
             Catch::EndsWith("        Service: npc\n"
                             "         Status: waiting for weave-npc to report (the gate is open "
                             "since an earlier sync)\n"));
}

TEST_CASE("TimeText is the status's time format", "[status]") {
  CHECK(TimeText(1790000000) == absl::FormatTime("%Y/%m/%d %H:%M:%S",
                                                 absl::FromUnixSeconds(1790000000),
                                                 absl::LocalTimeZone()));
  CHECK_THAT(TimeText(0), Catch::Matches(R"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)"));
}

TEST_CASE("VersionCheckText covers every outcome", "[status]") {
  v1::VersionCheck check;
  CHECK(VersionCheckText(check) == "version check update disabled");
  check.set_enabled(true);
  CHECK_THAT(VersionCheckText(check),
             Catch::StartsWith("failed to check latest version - see logs; next check at "));
  check.set_success(true);
  CHECK_THAT(VersionCheckText(check), Catch::StartsWith("up to date; next check at "));
  check.set_new_version("2.9.0");
  CHECK(VersionCheckText(check) == "version 2.9.0 available - please upgrade!");
}

}  // namespace
}  // namespace weave::status
