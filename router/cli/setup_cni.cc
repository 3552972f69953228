#include "router/cli/setup_cni.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace weave::cli {
namespace fs = std::filesystem;

namespace {

absl::Status FsError(const std::error_code& ec, absl::string_view doing) {
  return absl::UnavailableError(absl::StrCat(doing, ": ", ec.message()));
}

// Writes `path` through a temporary file and a rename, with `mode`.
absl::Status WriteAtomically(const fs::path& path, const std::string& contents, mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("writing ", tmp.string()));
  }
  if (chmod(tmp.c_str(), mode) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("chmod ", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return FsError(ec, absl::StrCat("renaming ", tmp.string(), " to ", path.string()));
  return absl::OkStatus();
}

}  // namespace

std::string Conflist(bool hairpin) {
  nlohmann::ordered_json conf = {
      {"cniVersion", "1.0.0"},
      {"name", "weave"},
      {"plugins",
       {{{"name", "weave"}, {"type", "weave-net"}, {"hairpinMode", hairpin}},
        {{"type", "portmap"}, {"capabilities", {{"portMappings", true}}}, {"snat", true}}}},
  };
  return conf.dump(2) + "\n";
}

absl::Status SetupCni(const SetupCniOptions& options) {
  std::error_code ec;
  for (const std::string& dir : {options.bin_dir, options.conf_dir}) {
    fs::create_directories(dir, ec);
    if (ec) return FsError(ec, absl::StrCat("creating ", dir));
  }
  std::ifstream in(options.plugin_binary, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("reading the plugin ", options.plugin_binary));
  }
  std::string binary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::path plugin = fs::path(options.bin_dir) / "weave-net";
  if (absl::Status written = WriteAtomically(plugin, binary, 0755); !written.ok()) {
    return written;
  }
  fs::path ipam = fs::path(options.bin_dir) / "weave-ipam";
  fs::path ipam_tmp = fs::path(options.bin_dir) / "weave-ipam.tmp";
  fs::remove(ipam_tmp, ec);
  fs::create_symlink("weave-net", ipam_tmp, ec);
  if (!ec) fs::rename(ipam_tmp, ipam, ec);
  if (ec) return FsError(ec, absl::StrCat("linking ", ipam.string()));

  fs::path conflist = fs::path(options.conf_dir) / kConflistName;
  if (fs::exists(conflist, ec)) return absl::OkStatus();
  return WriteAtomically(conflist, Conflist(options.hairpin), 0644);
}

}  // namespace weave::cli
