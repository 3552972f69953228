#include "common/kube/token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "ipam/testing/temp_dir.h"

namespace weave::kube {
namespace {

using ipam::testing::TempDir;

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Sets the modification time, so that a rewrite of the same size is invisible to stat().
void SetMtime(const std::string& path, int64_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

TEST_CASE("a token file is read again when it changes", "[kube]") {
  TempDir dir;
  const std::string path = dir.File("token");
  Write(path, "first\n");
  FileToken token(path);
  CHECK(*token.Token() == "first");
  Write(path, "second-token");
  CHECK(*token.Token() == "second-token");
}

TEST_CASE("a token file is read again every max_age, and after Invalidate", "[kube]") {
  TempDir dir;
  const std::string path = dir.File("token");
  absl::Time now = absl::FromUnixSeconds(1000);
  FileToken token(path, absl::Minutes(1), [&now] { return now; });
  Write(path, "aaaa");
  SetMtime(path, 5000);
  CHECK(*token.Token() == "aaaa");
  Write(path, "bbbb");  // same size, same time: stat() sees no change
  SetMtime(path, 5000);
  now += absl::Seconds(30);
  CHECK(*token.Token() == "aaaa");
  now += absl::Seconds(31);
  CHECK(*token.Token() == "bbbb");
  Write(path, "cccc");
  SetMtime(path, 5000);
  token.Invalidate();  // the server said 401
  CHECK(*token.Token() == "cccc");
}

TEST_CASE("a token follows kubelet's symlink swap", "[kube]") {
  // kubelet writes a new timestamped directory and renames a ..data symlink over the old one.
  TempDir dir;
  std::filesystem::create_directory(dir.File("v1"));
  std::filesystem::create_directory(dir.File("v2"));
  Write(dir.File("v1/token"), "old-token");
  Write(dir.File("v2/token"), "new-token");
  std::filesystem::create_directory_symlink("v1", dir.File("..data"));
  std::filesystem::create_symlink("..data/token", dir.File("token"));
  FileToken token(dir.File("token"));
  CHECK(*token.Token() == "old-token");
  std::filesystem::create_directory_symlink("v2", dir.File("..data_tmp"));
  std::filesystem::rename(dir.File("..data_tmp"), dir.File("..data"));
  CHECK(*token.Token() == "new-token");
}

TEST_CASE("a missing or empty token file is an error naming it", "[kube]") {
  TempDir dir;
  FileToken missing(dir.File("absent"));
  CHECK(missing.Token().status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.Token().status().message().find(dir.File("absent")) != absl::string_view::npos);
  Write(dir.File("empty"), " \n");
  FileToken empty(dir.File("empty"));
  CHECK(empty.Token().status().message() == "token file " + dir.File("empty") + " is empty");
}

}  // namespace
}  // namespace weave::kube
