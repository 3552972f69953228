// weave-net: the CNI plugin kubelet runs for every pod.
//
// This build answers VERSION; ADD, DEL, CHECK, GC and STATUS arrive with the CNI issue and
// answer a CNI error until then.
#include <cstdlib>
#include <iostream>
#include <string>

#include "nlohmann/json.hpp"

namespace {

constexpr char kLatestVersion[] = "1.1.0";

void PrintError(int code, const std::string& msg, const std::string& details) {
  nlohmann::json error = {
      {"cniVersion", kLatestVersion}, {"code", code}, {"msg", msg}, {"details", details}};
  std::cout << error.dump() << std::endl;
}

}  // namespace

int main() {
  const char* command = std::getenv("CNI_COMMAND");
  if (command == nullptr || *command == '\0') {
    PrintError(4, "CNI_COMMAND is not set", "expected ADD, DEL, CHECK, VERSION, GC or STATUS");
    return 1;
  }
  std::string cmd = command;
  if (cmd == "VERSION") {
    nlohmann::json version = {
        {"cniVersion", kLatestVersion},
        {"supportedVersions", {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}}};
    std::cout << version.dump() << std::endl;
    return 0;
  }
  PrintError(4, "weave-net: CNI_COMMAND " + cmd + " is not available in this build",
             "this build of the plugin answers VERSION only");
  return 1;
}
