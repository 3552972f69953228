#include "test/harness/file_util.h"

#include <fstream>
#include <sstream>

namespace weave::testing {

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace weave::testing
