#include "test/harness/file_util.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace weave::testing {

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::deque<std::string> LastLines(const std::string& path, int max_lines) {
  constexpr std::streamoff kMaxBytes = 1 << 20;
  std::deque<std::string> lines;
  std::ifstream file(path);
  file.seekg(0, std::ios::end);
  file.seekg(std::max<std::streamoff>(0, file.tellg() - kMaxBytes));
  for (std::string line; std::getline(file, line);) {
    lines.push_back(std::move(line));
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  return lines;
}

}  // namespace weave::testing
