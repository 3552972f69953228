#include "charts/generator/yaml.h"

#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace weave::charts {
namespace {

using Json = nlohmann::ordered_json;

// Plain scalars that YAML 1.1 or 1.2 resolves to something other than a string: null,
// booleans (1.1 has y/n/yes/no/on/off), integers in every base, sexagesimals, floats,
// infinities, NaN, timestamps, and the 1.1 value/merge keys.
bool ResolvesToNonString(const std::string& text) {
  static const std::regex kNonString(
      "~|null|Null|NULL"
      "|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
      "|[-+]?(0|[1-9][0-9_]*)"
      "|[-+]?0[0-7_]+|[-+]?0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+"
      "|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?"
      "|[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+]?[0-9]+)?"
      "|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
      "|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)"
      "|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?"
      "|=|<<");
  return std::regex_match(text, kNonString);
}

bool HasControlCharacter(absl::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Whether the text, written plain in block context, would not parse back as itself.
bool NeedsQuotes(const std::string& text) {
  if (text.empty() || ResolvesToNonString(text)) return true;
  // Indicators that may not start a plain scalar (some may when followed by a non-space,
  // but quoting them is simpler and always right).
  if (absl::string_view("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != absl::string_view::npos) {
    return true;
  }
  if (text.front() == ' ' || text.back() == ' ' || text.back() == ':') return true;
  return absl::StrContains(text, ": ") || absl::StrContains(text, " #");
}

void AppendIndent(int indent, std::string* out) { out->append(static_cast<size_t>(indent), ' '); }

std::string Scalar(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return YamlScalar(value.get_ref<const std::string&>());
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "{}";  // only empty collections are written inline
    case Json::value_t::array:
      return "[]";
    default:  // booleans and numbers read back the same in JSON and YAML
      return value.dump();
  }
}

bool IsBlockCollection(const Json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

void EmitMapping(const Json& mapping, int indent, bool first_key_on_current_line, std::string* out);
void EmitSequence(const Json& sequence, int indent, std::string* out);

// Writes what follows "key:" or "-": a scalar on the same line, or a block on the next lines.
void EmitValue(const Json& value, int indent, std::string* out) {
  if (!IsBlockCollection(value)) {
    out->append(" ").append(Scalar(value)).append("\n");
  } else if (value.is_object()) {
    out->append("\n");
    EmitMapping(value, indent, false, out);
  } else {
    out->append("\n");
    EmitSequence(value, indent, out);
  }
}

void EmitMapping(const Json& mapping, int indent, bool first_key_on_current_line,
                 std::string* out) {
  bool first = true;
  for (const auto& [key, value] : mapping.items()) {
    if (!(first && first_key_on_current_line)) AppendIndent(indent, out);
    first = false;
    out->append(YamlScalar(key)).append(":");
    EmitValue(value, indent + 2, out);
  }
}

void EmitSequence(const Json& sequence, int indent, std::string* out) {
  for (const Json& item : sequence) {
    AppendIndent(indent, out);
    out->append("-");
    if (item.is_object() && !item.empty()) {
      out->append(" ");
      EmitMapping(item, indent + 2, true, out);
    } else {
      EmitValue(item, indent + 2, out);
    }
  }
}

}  // namespace

std::string YamlScalar(absl::string_view text) {
  if (HasControlCharacter(text)) {
    // JSON's escapes (\n, \t, \u0001, \" and \\) mean the same in a YAML double-quoted scalar.
    return Json(std::string(text)).dump(-1, ' ', /*ensure_ascii=*/true);
  }
  std::string s(text);
  if (!NeedsQuotes(s)) return s;
  return "'" + absl::StrReplaceAll(s, {{"'", "''"}}) + "'";
}

std::string EmitYaml(const Json& document) {
  std::string out;
  if (document.is_array()) {
    EmitSequence(document, 0, &out);
  } else {
    EmitMapping(document, 0, false, &out);
  }
  return out;
}

}  // namespace weave::charts
