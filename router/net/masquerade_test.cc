#include "router/net/masquerade.h"

#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"

namespace weave::router {
namespace {

TEST_CASE("the router's table masquerades pod <-> outside only", "[masquerade]") {
  NatOptions options{*net::Cidr::Parse("10.32.0.0/12"), true};
  std::string text =
      nft::ToText(RouterTable(options, {*net::Ipv4::Parse("10.32.0.2")}));
  CHECK_THAT(text, Catch::Contains("type nat hook postrouting priority srcnat; policy accept;"));
  CHECK_THAT(text, Catch::Contains("ip saddr 10.32.0.0/12 ip daddr 10.32.0.0/12 return"));
  CHECK_THAT(text, Catch::Contains("ip saddr 10.32.0.0/12 masquerade fully-random"));
  CHECK_THAT(text, Catch::Contains("ip daddr @local-pods return"));
  CHECK_THAT(text, Catch::Contains("ip daddr 10.32.0.0/12 masquerade fully-random"));
  CHECK_THAT(text, Catch::Contains("10.32.0.2"));

  options.no_masq_local = false;
  CHECK_THAT(nft::ToText(RouterTable(options, {})), !Catch::Contains("@local-pods return"));
}

TEST_CASE("local pods follow attach and detach", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {*net::Cidr::Parse("10.32.0.0/12"), true});
  REQUIRE(masquerade.Install({}).ok());
  REQUIRE(masquerade.PodAttached(*net::Ipv4::Parse("10.32.0.5")).ok());
  auto table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  REQUIRE(table->has_value());
  CHECK((*table)->FindSet("local-pods")->elements.size() == 1);
  REQUIRE(masquerade.PodDetached(*net::Ipv4::Parse("10.32.0.5")).ok());
  CHECK(masquerade.PodDetached(*net::Ipv4::Parse("10.32.0.5")).ok());  // repeated DEL
  table = backend.Dump(nft::Family::kInet, "weave");
  CHECK((*table)->FindSet("local-pods")->elements.empty());
  // Re-installing replaces the table in one step.
  REQUIRE(masquerade.Install({*net::Ipv4::Parse("10.32.0.7")}).ok());
  table = backend.Dump(nft::Family::kInet, "weave");
  CHECK((*table)->FindSet("local-pods")->elements.size() == 1);
  REQUIRE(masquerade.Remove().ok());
  CHECK_FALSE(backend.Dump(nft::Family::kInet, "weave")->has_value());
  CHECK(masquerade.Remove().ok());
}

}  // namespace
}  // namespace weave::router
