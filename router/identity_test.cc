#include "router/identity.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace weave::router {
namespace {

namespace fs = std::filesystem;

TEST_CASE("peer names derive stably from host ids", "[identity]") {
  HostIds a{"0123456789abcdef0123456789abcdef", "4c4c4544-0042-3010-8051-b4c04f563432"};
  auto first = PeerNameFromHostIds(a);
  REQUIRE(first.has_value());
  CHECK(first == PeerNameFromHostIds(a));
  // Unicast and locally administered.
  CHECK(((first->value() >> 40) & 0x03) == 0x02);
  HostIds b = a;
  b.machine_id[0] = '1';
  CHECK(first != PeerNameFromHostIds(b));
  CHECK_FALSE(PeerNameFromHostIds(HostIds{}).has_value());
}

TEST_CASE("host ids are read under the host root", "[identity]") {
  fs::path root = fs::temp_directory_path() / ("identity-test-" + std::to_string(getpid()));
  fs::create_directories(root / "etc");
  fs::create_directories(root / "sys/class/dmi/id");
  std::ofstream(root / "etc/machine-id") << "abcdef0123456789abcdef0123456789\n";
  std::ofstream(root / "sys/class/dmi/id/product_uuid") << "UUID-1\n";
  HostIds ids = ReadHostIds(root.string());
  CHECK(ids.machine_id == "abcdef0123456789abcdef0123456789");
  CHECK(ids.product_uuid == "UUID-1");
  fs::remove_all(root);
  CHECK(ReadHostIds(root.string()).machine_id.empty());
}

TEST_CASE("random names and uids are valid", "[identity]") {
  CHECK(((RandomPeerName().value() >> 40) & 0x03) == 0x02);
  CHECK(RandomPeerUid() != 0);
}

}  // namespace
}  // namespace weave::router
