#include "charts/generator/service.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "charts/generator/manifest.h"
#include "httplib.h"

namespace weave::charts {
namespace {

TEST_CASE("GET /k8s/net answers the manifest or a one-line 400", "[charts]") {
  auto server = http::Server::Start("generator", {"127.0.0.1", 0}, {ManifestRoute()});
  REQUIRE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());

  auto plain = client.Get("/k8s/net");
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK(plain->get_header_value("Content-Type") == "application/yaml; charset=utf-8");
  CHECK(plain->body == GenerateManifest("").value());

  auto mtu = client.Get("/k8s/net?env.WEAVE_MTU=1337&disable-npc=true");
  REQUIRE(mtu);
  CHECK(mtu->status == 200);
  CHECK(mtu->body == GenerateManifest("env.WEAVE_MTU=1337&disable-npc=true").value());

  // The order of env.NAME survives HTTP (a decoded map would sort it).
  auto ordered = client.Get("/k8s/net?env.WEAVE_NO_FASTDP=1&env.CONN_LIMIT=5");
  REQUIRE(ordered);
  CHECK(ordered->body == GenerateManifest("env.WEAVE_NO_FASTDP=1&env.CONN_LIMIT=5").value());
  CHECK(ordered->body != GenerateManifest("env.CONN_LIMIT=5&env.WEAVE_NO_FASTDP=1").value());

  auto bad = client.Get("/k8s/net?disable-npc=perhaps");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->body == "disable-npc: \"perhaps\" is not valid: expected true or false\n");
  (*server)->Stop();
}

}  // namespace
}  // namespace weave::charts
