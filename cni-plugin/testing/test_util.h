// Small helpers shared by the plugin's tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cni-plugin/errors.h"
#include "nlohmann/json.hpp"

namespace weave::cni::testing {

// The CNI code a failed status prints as.
inline int CniCode(const absl::Status& status) { return CniErrorFromStatus(status).code; }

// A fresh directory under /tmp for one test case (short, so that unix socket paths fit), removed
// at its end.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::path("/tmp") / absl::StrCat("wvt-cni-", getpid(), "-", next_id_++)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

  // Writes `name` with `content`; mode 0755 when `executable`. Returns its path.
  std::string Write(const std::string& name, const std::string& content,
                    bool executable = false) const {
    const std::string file = File(name);
    std::ofstream(file, std::ios::trunc) << content;
    chmod(file.c_str(), executable ? 0755 : 0644);
    return file;
  }

 private:
  static inline int next_id_ = 0;
  std::filesystem::path path_;
};

// Parses a document a test expects to be JSON; a parse failure yields a discarded value that no
// assertion on its contents will accept.
inline nlohmann::json Json(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace weave::cni::testing
