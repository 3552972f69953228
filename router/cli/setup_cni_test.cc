#include "router/cli/setup_cni.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace weave::cli {
namespace {
namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("the conflist chains weave-net and portmap with snat", "[setup-cni]") {
  auto conf = nlohmann::json::parse(Conflist(false));
  CHECK(conf["cniVersion"] == "1.0.0");
  CHECK(conf["name"] == "weave");
  CHECK(conf["plugins"][0]["type"] == "weave-net");
  CHECK(conf["plugins"][0]["hairpinMode"] == false);
  CHECK(conf["plugins"][1]["type"] == "portmap");
  CHECK(conf["plugins"][1]["snat"] == true);
  CHECK(conf["plugins"][1]["capabilities"]["portMappings"] == true);
  CHECK(nlohmann::json::parse(Conflist(true))["plugins"][0]["hairpinMode"] == true);
}

TEST_CASE("setup-cni installs the plugin and writes the conflist only if absent",
          "[setup-cni]") {
  fs::path root = fs::temp_directory_path() / ("setup-cni-test-" + std::to_string(getpid()));
  fs::create_directories(root);
  std::ofstream(root / "plugin") << "#!/bin/sh\necho plugin\n";
  SetupCniOptions options{(root / "plugin").string(), (root / "opt/cni/bin").string(),
                          (root / "etc/cni/net.d").string(), true};
  REQUIRE(SetupCni(options).ok());
  CHECK(Read(root / "opt/cni/bin/weave-net") == "#!/bin/sh\necho plugin\n");
  CHECK((fs::status(root / "opt/cni/bin/weave-net").permissions() & fs::perms::owner_exec) !=
        fs::perms::none);
  CHECK(fs::read_symlink(root / "opt/cni/bin/weave-ipam") == "weave-net");
  CHECK(Read(root / "etc/cni/net.d/10-weave.conflist") == Conflist(true));

  // An operator's edits survive; the binary is upgraded.
  std::ofstream(root / "etc/cni/net.d/10-weave.conflist") << "edited\n";
  std::ofstream(root / "plugin") << "v2\n";
  REQUIRE(SetupCni(options).ok());
  CHECK(Read(root / "etc/cni/net.d/10-weave.conflist") == "edited\n");
  CHECK(Read(root / "opt/cni/bin/weave-net") == "v2\n");

  options.plugin_binary = (root / "missing").string();
  absl::Status missing = SetupCni(options);
  CHECK(absl::IsNotFound(missing));
  CHECK(missing.message().find("missing") != absl::string_view::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace weave::cli
