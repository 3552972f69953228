#include "cni-plugin/result.h"

#include <catch2/catch.hpp>

#include "cni-plugin/testing/test_util.h"
#include "test/harness/status_assertions.h"

namespace weave::cni {
namespace {

using nlohmann::json;
using testing::CniCode;
using testing::Json;

// What the router's answer to an ADD becomes: host veth, container interface, one address.
Result AttachResult() {
  Result result;
  result.interfaces = {{"vethwepl3f6940a", "6a:1f:00:00:00:01", "", 1376},
                       {"eth0", "6a:1f:00:00:00:02", "/var/run/netns/cni-1", 1376}};
  result.ips = {{"10.32.0.5/12", "10.32.0.1", 1}};
  result.routes = {{"0.0.0.0/0", "10.32.0.1"}};
  return result;
}

TEST_CASE("RenderResult pins the exact 0.3.1 and 1.1.0 documents", "[result]") {
  CHECK(RenderResult(AttachResult(), CniVersion::k0_3_1) ==
        R"({"cniVersion":"0.3.1","dns":{},)"
        R"("interfaces":[{"mac":"6a:1f:00:00:00:01","name":"vethwepl3f6940a"},)"
        R"({"mac":"6a:1f:00:00:00:02","name":"eth0","sandbox":"/var/run/netns/cni-1"}],)"
        R"("ips":[{"address":"10.32.0.5/12","gateway":"10.32.0.1","interface":1,"version":"4"}],)"
        R"("routes":[{"dst":"0.0.0.0/0","gw":"10.32.0.1"}]})");
  CHECK(RenderResult(AttachResult(), CniVersion::k1_1_0) ==
        R"({"cniVersion":"1.1.0","dns":{},)"
        R"("interfaces":[{"mac":"6a:1f:00:00:00:01","mtu":1376,"name":"vethwepl3f6940a"},)"
        R"({"mac":"6a:1f:00:00:00:02","mtu":1376,"name":"eth0","sandbox":"/var/run/netns/cni-1"}],)"
        R"("ips":[{"address":"10.32.0.5/12","gateway":"10.32.0.1","interface":1}],)"
        R"("routes":[{"dst":"0.0.0.0/0","gw":"10.32.0.1"}]})");
}

TEST_CASE("RenderResult shapes every supported version", "[result]") {
  for (absl::string_view text : kSupportedVersions) {
    const CniVersion version = *ParseCniVersion(text);
    INFO(text);
    const json document = Json(RenderResult(AttachResult(), version));
    REQUIRE(document.is_object());
    CHECK(document["cniVersion"] == std::string(text));
    REQUIRE(document["interfaces"].size() == 2);
    CHECK(document["interfaces"][0]["name"] == "vethwepl3f6940a");
    CHECK_FALSE(document["interfaces"][0].contains("sandbox"));
    CHECK(document["interfaces"][1]["sandbox"] == "/var/run/netns/cni-1");
    CHECK(document["interfaces"][1].contains("mtu") == (version == CniVersion::k1_1_0));
    REQUIRE(document["ips"].size() == 1);
    const json& ip = document["ips"][0];
    CHECK(ip["address"] == "10.32.0.5/12");
    CHECK(ip["gateway"] == "10.32.0.1");
    CHECK(ip["interface"] == 1);
    if (version < CniVersion::k1_0_0) {
      CHECK(ip["version"] == "4");
    } else {
      CHECK_FALSE(ip.contains("version"));
    }
    CHECK(document["routes"] == json::array({{{"dst", "0.0.0.0/0"}, {"gw", "10.32.0.1"}}}));
    CHECK(document["dns"] == json::object());

    // What we print parses back to the same value (the mtu only survives where it is printed).
    ASSIGN_OR_REQUIRE(Result parsed, ParseResult(document, "prevResult"));
    Result expected = AttachResult();
    if (version != CniVersion::k1_1_0) {
      for (Interface& interface : expected.interfaces) interface.mtu = 0;
    }
    CHECK(parsed == expected);
  }
}

TEST_CASE("An IPAM result has no interfaces and no interface index", "[result]") {
  Result result;
  result.ips = {{"10.32.0.9/12", "10.32.0.1", std::nullopt}};
  result.routes = {{"0.0.0.0/0", "10.32.0.1"}};
  result.dns = {{"nameservers", {"10.96.0.10"}}};
  const json document = Json(RenderResult(result, CniVersion::k0_4_0));
  CHECK_FALSE(document.contains("interfaces"));
  CHECK(document["ips"] ==
        json::array({{{"version", "4"}, {"address", "10.32.0.9/12"}, {"gateway", "10.32.0.1"}}}));
  CHECK(document["dns"]["nameservers"][0] == "10.96.0.10");
}

TEST_CASE("IPv6 addresses say version 6 before 1.0.0 and empty fields are left out", "[result]") {
  Result result;
  result.ips = {{"fd00::5/64", "", std::nullopt}};
  result.routes = {{"::/0", ""}};
  const json document = Json(RenderResult(result, CniVersion::k0_3_0));
  CHECK(document["ips"][0] == json{{"version", "6"}, {"address", "fd00::5/64"}});
  CHECK(document["routes"][0] == json{{"dst", "::/0"}});
}

TEST_CASE("AppendResult chains after a previous plugin's result", "[result]") {
  Result previous;
  previous.interfaces = {{"dummy0", "", "", 0}};
  previous.ips = {{"192.168.1.5/24", "", 0}};
  previous.routes = {{"192.168.0.0/16", ""}};
  const Result merged = AppendResult(previous, AttachResult());
  REQUIRE(merged.interfaces.size() == 3);
  CHECK(merged.interfaces[2].name == "eth0");
  REQUIRE(merged.ips.size() == 2);
  CHECK(merged.ips[0].interface == std::optional<int>(0));
  CHECK(merged.ips[1].interface == std::optional<int>(2));
  CHECK(merged.routes.size() == 2);

  Result with_dns = previous;
  with_dns.dns = {{"domain", "cluster.local"}};
  Result ours = AttachResult();
  ours.dns = {{"domain", "ours"}};
  CHECK(AppendResult(with_dns, ours).dns["domain"] == "cluster.local");
  CHECK(AppendResult(previous, ours).dns["domain"] == "ours");
}

TEST_CASE("ParseResult reads what other plugins print and rejects what is malformed", "[result]") {
  SECTION("host-local's 0.4.0 output") {
    ASSIGN_OR_REQUIRE(const Result result, ParseResultText(R"({"cniVersion":"0.4.0",
        "ips":[{"version":"4","address":"10.1.0.2/16","gateway":"10.1.0.1"}],
        "routes":[{"dst":"0.0.0.0/0"}],"dns":{}})",
                                                           "result"));
    CHECK(result.ips == std::vector<IpConfig>{{"10.1.0.2/16", "10.1.0.1", std::nullopt}});
    CHECK(result.routes == std::vector<Route>{{"0.0.0.0/0", ""}});
    CHECK(result.interfaces.empty());
  }
  SECTION("an interface index beyond the interfaces") {
    const absl::Status status =
        ParseResultText(R"({"interfaces":[{"name":"eth0"}],"ips":[{"address":"1.2.3.4/8",
                            "interface":1}]})",
                        "prevResult")
            .status();
    CHECK(CniCode(status) == kErrInvalidConfig);
    CHECK(status.message() ==
          "field \"prevResult.ips[0].interface\" is 1 but there are 1 interfaces");
  }
  SECTION("wrong types and missing fields") {
    CHECK(CniCode(ParseResultText(R"({"ips":{}})", "r").status()) == kErrInvalidConfig);
    CHECK(CniCode(ParseResultText(R"({"ips":[{"address":4}]})", "r").status()) ==
          kErrInvalidConfig);
    CHECK(CniCode(ParseResultText(R"({"routes":[{"gw":"1.2.3.4"}]})", "r").status()) ==
          kErrInvalidConfig);
    CHECK(CniCode(ParseResultText(R"({"interfaces":[{"mac":"x"}]})", "r").status()) ==
          kErrInvalidConfig);
    CHECK(CniCode(ParseResultText(R"({"interfaces":["eth0"]})", "r").status()) ==
          kErrInvalidConfig);
  }
  SECTION("text that is not a JSON object") {
    CHECK(CniCode(ParseResultText("", "result").status()) == kErrDecoding);
    CHECK(CniCode(ParseResultText("[]", "result").status()) == kErrDecoding);
    CHECK(ParseResultText("oops", "the result").status().message() ==
          "the result is not a JSON object");
  }
}

TEST_CASE("RenderVersionInfo lists the supported versions", "[result]") {
  CHECK(RenderVersionInfo(CniVersion::k1_1_0) ==
        R"({"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})");
  CHECK(Json(RenderVersionInfo(CniVersion::k0_3_0))["cniVersion"] == "0.3.0");
}

}  // namespace
}  // namespace weave::cni
