#include "common/kube/path.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace weave::kube {

namespace {

std::string PercentEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::string WithQuery(absl::string_view path, const QueryParams& params) {
  std::string out(path);
  char separator = out.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    absl::StrAppend(&out, std::string(1, separator), PercentEncode(name), "=",
                    PercentEncode(value));
    separator = '&';
  }
  return out;
}

std::string DescribePath(absl::string_view path) {
  absl::string_view bare = path.substr(0, path.find('?'));
  std::vector<absl::string_view> parts = absl::StrSplit(bare, '/', absl::SkipEmpty());
  size_t start;
  if (parts.size() >= 3 && parts[0] == "api") {
    start = 2;  // api/v1
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    start = 3;  // apis/group/version
  } else {
    return std::string(path);
  }
  std::vector<absl::string_view> rest(parts.begin() + start, parts.end());
  std::string ns;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    ns = std::string(rest[1]);
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty() || rest.size() > 3) return std::string(path);
  std::string out(rest[0]);
  if (rest.size() == 1) {
    if (!ns.empty()) absl::StrAppend(&out, " in ", ns);
    return out;
  }
  absl::StrAppend(&out, " ", ns.empty() ? "" : absl::StrCat(ns, "/"), rest[1]);
  if (rest.size() == 3) absl::StrAppend(&out, " ", rest[2]);
  return out;
}

}  // namespace weave::kube
