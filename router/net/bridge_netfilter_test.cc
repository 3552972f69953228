#include "router/net/bridge_netfilter.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "test/harness/file_util.h"

namespace weave::router {
namespace {

TEST_CASE("EnsureBridgeNetfilter turns bridged IPv4 traffic over to netfilter", "[net]") {
  const std::filesystem::path root =
      std::filesystem::temp_directory_path() / ("bridge-nf-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  // br_netfilter not loaded: a clear error, nothing created.
  absl::Status missing = EnsureBridgeNetfilter(root.string());
  CHECK(absl::IsFailedPrecondition(missing));
  CHECK_THAT(std::string(missing.message()), Catch::Contains("modprobe br_netfilter"));
  CHECK_FALSE(std::filesystem::exists(root / "net"));

  std::filesystem::create_directories(root / "net/bridge");
  const std::string file = (root / "net/bridge/bridge-nf-call-iptables").string();
  std::ofstream(file) << "0\n";
  CHECK(EnsureBridgeNetfilter(root.string()).ok());
  CHECK(testing::ReadFileOrEmpty(file) == "1\n");
  CHECK(EnsureBridgeNetfilter(root.string()).ok());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace weave::router
