#include "npc/conformance/evaluator.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <utility>
#include <variant>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/types/span.h"
#include "common/status_macros.h"

namespace weave::npc::conformance {
namespace {

// ---- Tokens ------------------------------------------------------------------------------

// Words are whatever lies between blanks and the punctuation below, so "10.0.0.1-10.0.0.9",
// "!=", "." and "@set" are single words; a newline and `;` both end a statement.
enum class TokenKind { kWord, kString, kOpen, kClose, kComma, kSeparator, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // a string's contents come without their quotes
  int line = 0;
  size_t begin = 0, end = 0;  // where the token lies in the source text
};

absl::Status ErrorAt(int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the statement";
    case TokenKind::kSeparator:
      return token.text == ";" ? "';'" : "the end of the line";
    case TokenKind::kString:
      return absl::StrCat("\"", token.text, "\"");
    default:
      return absl::StrCat("'", token.text, "'");
  }
}

bool IsWordChar(char c) {
  return !absl::ascii_isspace(static_cast<unsigned char>(c)) && c != '{' && c != '}' && c != ';' &&
         c != ',' && c != '"' && c != '#';
}

TokenKind PunctuationKind(char c) {
  switch (c) {
    case '{':
      return TokenKind::kOpen;
    case '}':
      return TokenKind::kClose;
    case ',':
      return TokenKind::kComma;
    case ';':
      return TokenKind::kSeparator;
    default:
      return TokenKind::kWord;
  }
}

// nft strings have no escapes: a string runs to the next quote on the same line.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  int line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const size_t begin = i;
    if (c == '\n') {
      tokens.push_back({TokenKind::kSeparator, "\n", line++, i, i + 1});
      ++i;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {  // a comment, such as the "# handle 4" of `nft -a`
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      const size_t close = text.find_first_of("\"\n", i + 1);
      if (close == absl::string_view::npos || text[close] != '"') {
        return ErrorAt(line, "unterminated string");
      }
      tokens.push_back(
          {TokenKind::kString, std::string(text.substr(i + 1, close - i - 1)), line, i, close + 1});
      i = close + 1;
    } else if (PunctuationKind(c) != TokenKind::kWord) {
      tokens.push_back({PunctuationKind(c), std::string(1, c), line, i, i + 1});
      ++i;
    } else {
      while (i < text.size() && IsWordChar(text[i])) ++i;
      tokens.push_back(
          {TokenKind::kWord, std::string(text.substr(begin, i - begin)), line, begin, i});
    }
  }
  tokens.push_back({TokenKind::kEnd, "", line, text.size(), text.size()});
  return tokens;
}

// Reads a token sequence that ends with a kEnd token (which it never moves past).
class Cursor {
 public:
  explicit Cursor(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& token = Peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return token;
  }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  bool PeekWord(absl::string_view word, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kWord && Peek(ahead).text == word;
  }
  bool ConsumeWord(absl::string_view word) {
    if (!PeekWord(word)) return false;
    Next();
    return true;
  }
  bool Consume(TokenKind kind) {
    if (Peek().kind != kind) return false;
    Next();
    return true;
  }
  void SkipSeparators() {
    while (Peek().kind == TokenKind::kSeparator) Next();
  }

  absl::Status Expect(TokenKind kind, absl::string_view what) {
    if (Consume(kind)) return absl::OkStatus();
    return ErrorAt(Peek().line, absl::StrCat("expected ", what, ", got ", Describe(Peek())));
  }
  absl::Status ExpectWord(absl::string_view word) {
    if (ConsumeWord(word)) return absl::OkStatus();
    return ErrorAt(Peek().line, absl::StrCat("expected '", word, "', got ", Describe(Peek())));
  }
  absl::Status ExpectEnd() {
    if (AtEnd()) return absl::OkStatus();
    return ErrorAt(Peek().line, absl::StrCat("unexpected ", Describe(Peek())));
  }
  // A table, chain or set name: nft prints them bare, or quoted when they need it.
  absl::StatusOr<std::string> ExpectName(absl::string_view what) {
    const Token& token = Peek();
    if (token.kind != TokenKind::kWord && token.kind != TokenKind::kString) {
      return ErrorAt(token.line, absl::StrCat("expected ", what, ", got ", Describe(token)));
    }
    return Next().text;
  }

  // Takes the tokens of one statement: everything up to a separator or an unmatched `}` (both
  // left in place). Newlines inside braces, where nft wraps long element lists, are dropped.
  absl::StatusOr<Cursor> TakeStatement() {
    std::vector<Token> taken;
    int depth = 0;
    while (true) {
      const Token& token = Peek();
      if (token.kind == TokenKind::kEnd) {
        if (depth > 0) return ErrorAt(token.line, "missing '}'");
        break;
      }
      if (depth == 0 && (token.kind == TokenKind::kSeparator || token.kind == TokenKind::kClose)) {
        break;
      }
      Next();
      if (token.kind == TokenKind::kOpen) ++depth;
      if (token.kind == TokenKind::kClose) --depth;
      if (token.kind == TokenKind::kSeparator) {
        if (token.text == "\n") continue;
        return ErrorAt(token.line, "unexpected ';' inside braces");
      }
      taken.push_back(token);
    }
    const Token& last = taken.empty() ? Peek() : taken.back();
    const size_t end = taken.empty() ? last.begin : last.end;
    taken.push_back({TokenKind::kEnd, "", last.line, end, end});
    return Cursor(std::move(taken));
  }

  // The source text from the current token to the end, blanks collapsed.
  std::string RemainingText(absl::string_view source) const {
    const Token& first = Peek();
    const Token& last = tokens_.back();
    return absl::StrJoin(absl::StrSplit(source.substr(first.begin, last.end - first.begin),
                                        absl::ByAnyChar(" \t\n"), absl::SkipEmpty()),
                         " ");
  }

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// ---- Data types and values -----------------------------------------------------------------

enum class Type { kIpv4Addr, kInetService, kInetProto, kIfname, kMark, kCtState, kNfProto };

struct NamedValue {
  absl::string_view name;
  uint32_t value;
};

// /etc/protocols of Debian 12 (numbers below 256), from which nft prints and reads
// inet_proto values; names come first so that nft's printing is read back.
constexpr NamedValue kProtocols[] = {
    {"ip", 0},        {"hopopt", 0},       {"icmp", 1},        {"igmp", 2},
    {"ggp", 3},       {"ipencap", 4},      {"st", 5},          {"tcp", 6},
    {"egp", 8},       {"igp", 9},          {"pup", 12},        {"udp", 17},
    {"hmp", 20},      {"xns-idp", 22},     {"rdp", 27},        {"iso-tp4", 29},
    {"dccp", 33},     {"xtp", 36},         {"ddp", 37},        {"idpr-cmtp", 38},
    {"ipv6", 41},     {"ipv6-route", 43},  {"ipv6-frag", 44},  {"idrp", 45},
    {"rsvp", 46},     {"gre", 47},         {"esp", 50},        {"ah", 51},
    {"skip", 57},     {"ipv6-icmp", 58},   {"ipv6-nonxt", 59}, {"ipv6-opts", 60},
    {"rspf", 73},     {"vmtp", 81},        {"eigrp", 88},      {"ospf", 89},
    {"ax.25", 93},    {"ipip", 94},        {"etherip", 97},    {"encap", 98},
    {"pim", 103},     {"ipcomp", 108},     {"vrrp", 112},      {"l2tp", 115},
    {"isis", 124},    {"sctp", 132},       {"fc", 133},        {"mobility-header", 135},
    {"udplite", 136}, {"mpls-in-ip", 137}, {"manet", 138},     {"hip", 139},
    {"shim6", 140},   {"wesp", 141},       {"rohc", 142},      {"ethernet", 143},
};
constexpr NamedValue kCtStates[] = {{"invalid", kCtInvalid},
                                    {"established", kCtEstablished},
                                    {"related", kCtRelated},
                                    {"new", kCtNew},
                                    {"untracked", kCtUntracked}};
constexpr NamedValue kNfProtos[] = {{"ipv4", 2}, {"ipv6", 10}};

struct TypeInfo {
  Type type;
  absl::string_view name;
  uint32_t max;
  absl::Span<const NamedValue> names;
};

constexpr TypeInfo kTypes[] = {
    {Type::kIpv4Addr, "ipv4_addr", 0xffffffff, {}},
    {Type::kInetService, "inet_service", 0xffff, {}},
    {Type::kInetProto, "inet_proto", 0xff, kProtocols},
    {Type::kIfname, "ifname", 0, {}},
    {Type::kMark, "mark", 0xffffffff, {}},
    {Type::kCtState, "ct_state", 0xffffffff, kCtStates},
    {Type::kNfProto, "nf_proto", 0xff, kNfProtos},
};

const TypeInfo& Info(Type type) {
  for (const TypeInfo& info : kTypes) {
    if (info.type == type) return info;
  }
  std::abort();  // every Type has a row
}

std::string TypeNames(const std::vector<Type>& types) {
  return absl::StrJoin(types, " . ",
                       [](std::string* out, Type type) { absl::StrAppend(out, Info(type).name); });
}

// What a packet holds in one field.
using Value = std::variant<uint32_t, std::string>;

// What one field of an element accepts: integers first..last, or an interface name (any name
// it begins when `prefix`, written with a trailing `*`).
struct IntRange {
  uint32_t first = 0, last = 0;
};
struct NamePattern {
  std::string name;
  bool prefix = false;
};
using Component = std::variant<IntRange, NamePattern>;
using Element = std::vector<Component>;  // one component per concatenated field

bool Accepts(const Component& component, const Value& value) {
  if (const auto* range = std::get_if<IntRange>(&component)) {
    const auto* number = std::get_if<uint32_t>(&value);
    return number != nullptr && range->first <= *number && *number <= range->last;
  }
  const auto& pattern = std::get<NamePattern>(component);
  const auto* name = std::get_if<std::string>(&value);
  return name != nullptr &&
         (pattern.prefix ? absl::StartsWith(*name, pattern.name) : *name == pattern.name);
}

bool Accepts(const Element& element, const std::vector<Value>& key) {
  if (element.size() != key.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    if (!Accepts(element[i], key[i])) return false;
  }
  return true;
}

bool IsRange(const Component& component) {
  if (const auto* range = std::get_if<IntRange>(&component)) return range->first != range->last;
  return std::get<NamePattern>(component).prefix;
}

std::optional<uint32_t> ValueNamed(Type type, absl::string_view text) {
  for (const NamedValue& named : Info(type).names) {
    if (named.name == text) return named.value;
  }
  return std::nullopt;
}

// A number (decimal or 0x hex) or one of the type's names.
absl::StatusOr<uint32_t> ParseNumber(Type type, absl::string_view text, int line) {
  if (std::optional<uint32_t> named = ValueNamed(type, text)) return *named;
  const TypeInfo& info = Info(type);
  const bool hex = absl::StartsWith(text, "0x");
  const absl::string_view digits = hex ? text.substr(2) : text;
  uint64_t number = 0;
  const bool all_digits =
      !digits.empty() && std::all_of(digits.begin(), digits.end(), [hex](char c) {
        return hex ? absl::ascii_isxdigit(static_cast<unsigned char>(c))
                   : absl::ascii_isdigit(static_cast<unsigned char>(c));
      });
  if (!all_digits || digits.size() > 10 ||
      !(hex ? absl::SimpleHexAtoi(digits, &number) : absl::SimpleAtoi(digits, &number)) ||
      number > info.max) {
    return ErrorAt(line, absl::StrCat("'", text, "' is not a valid ", info.name));
  }
  return static_cast<uint32_t>(number);
}

absl::StatusOr<IntRange> ParseAddresses(const Token& token) {
  const absl::string_view text = token.text;
  const auto bad = [&] {
    return ErrorAt(token.line, absl::StrCat("'", text, "' is not a valid ipv4_addr"));
  };
  if (absl::StrContains(text, '/')) {
    absl::StatusOr<net::Cidr> cidr = net::Cidr::Parse(text);
    if (!cidr.ok()) return bad();
    return IntRange{cidr->network().value(), cidr->last().value()};
  }
  const std::vector<absl::string_view> ends = absl::StrSplit(text, absl::MaxSplits('-', 1));
  absl::StatusOr<net::Ipv4> first = net::Ipv4::Parse(ends.front());
  absl::StatusOr<net::Ipv4> last = net::Ipv4::Parse(ends.back());
  if (!first.ok() || !last.ok() || *last < *first) return bad();
  return IntRange{first->value(), last->value()};
}

// One field of an element or value. A trailing `*` makes an interface name a prefix.
absl::StatusOr<Component> ParseComponent(Type type, const Token& token) {
  const std::string& text = token.text;
  if (type == Type::kIfname) {
    if (token.kind != TokenKind::kString) {
      return ErrorAt(token.line,
                     absl::StrCat("expected a quoted interface name, got ", Describe(token)));
    }
    if (absl::EndsWith(text, "*")) {
      return NamePattern{text.substr(0, text.size() - 1), true};
    }
    return NamePattern{text, false};
  }
  if (token.kind != TokenKind::kWord) {
    return ErrorAt(token.line, absl::StrCat("expected a value of type ", Info(type).name, ", got ",
                                            Describe(token)));
  }
  if (type == Type::kIpv4Addr) return ParseAddresses(token);
  const size_t dash = text.find('-');
  if (ValueNamed(type, text) || dash == std::string::npos) {  // "ipv6-icmp" is a name
    ASSIGN_OR_RETURN(uint32_t value, ParseNumber(type, text, token.line));
    return IntRange{value, value};
  }
  ASSIGN_OR_RETURN(uint32_t first, ParseNumber(type, text.substr(0, dash), token.line));
  ASSIGN_OR_RETURN(uint32_t last, ParseNumber(type, text.substr(dash + 1), token.line));
  if (last < first) return ErrorAt(token.line, absl::StrCat("empty range '", text, "'"));
  return IntRange{first, last};
}

// `a . b . c`, one component per type. Without `interval`, ranges (CIDRs, `a-b`, `"eth*"`)
// are errors, as nft reports them.
absl::StatusOr<Element> ParseElement(Cursor& cursor, const std::vector<Type>& types,
                                     bool interval) {
  Element element;
  for (size_t i = 0; i < types.size(); ++i) {
    if (i > 0) RETURN_IF_ERROR(cursor.ExpectWord("."));
    const Token& token = cursor.Next();
    ASSIGN_OR_RETURN(Component component, ParseComponent(types[i], token));
    if (!interval && IsRange(component)) {
      return ErrorAt(token.line,
                     absl::StrCat("range ", Describe(token), " in a set without 'flags interval'"));
    }
    element.push_back(std::move(component));
  }
  return element;
}

// `{ e1, e2, ... }`.
absl::StatusOr<std::vector<Element>> ParseElementList(Cursor& cursor,
                                                      const std::vector<Type>& types,
                                                      bool interval) {
  RETURN_IF_ERROR(cursor.Expect(TokenKind::kOpen, "'{'"));
  std::vector<Element> elements;
  while (!cursor.Consume(TokenKind::kClose)) {
    if (!elements.empty()) RETURN_IF_ERROR(cursor.Expect(TokenKind::kComma, "',' or '}'"));
    ASSIGN_OR_RETURN(Element element, ParseElement(cursor, types, interval));
    elements.push_back(std::move(element));
  }
  return elements;
}

// ---- Fields of a packet --------------------------------------------------------------------

enum class Field {
  kSaddr,
  kDaddr,
  kL4proto,
  kSport,
  kDport,
  kCtState,
  kIifname,
  kOifname,
  kMark,
  kNfProto
};

// For port fields, the protocol whose header holds them.
constexpr int kNotPorts = -1;
constexpr int kAnyPortProtocol = -2;  // `th`: whichever of kPortProtocols the packet has
constexpr uint8_t kPortProtocols[] = {6, 17, 33, 132, 136};  // tcp udp dccp sctp udplite

struct Selector {
  Field field;
  Type type;
  int protocol = kNotPorts;
};

struct SelectorSyntax {
  absl::string_view first, second;  // second is empty for one-word selectors
  Selector selector;
};

constexpr SelectorSyntax kSelectorSyntax[] = {
    {"ip", "saddr", {Field::kSaddr, Type::kIpv4Addr}},
    {"ip", "daddr", {Field::kDaddr, Type::kIpv4Addr}},
    {"ip", "protocol", {Field::kL4proto, Type::kInetProto}},
    {"meta", "l4proto", {Field::kL4proto, Type::kInetProto}},
    {"meta", "nfproto", {Field::kNfProto, Type::kNfProto}},
    {"meta", "mark", {Field::kMark, Type::kMark}},
    {"meta", "iifname", {Field::kIifname, Type::kIfname}},
    {"meta", "oifname", {Field::kOifname, Type::kIfname}},
    {"iifname", "", {Field::kIifname, Type::kIfname}},
    {"oifname", "", {Field::kOifname, Type::kIfname}},
    {"ct", "state", {Field::kCtState, Type::kCtState}},
    {"th", "sport", {Field::kSport, Type::kInetService, kAnyPortProtocol}},
    {"th", "dport", {Field::kDport, Type::kInetService, kAnyPortProtocol}},
    {"tcp", "sport", {Field::kSport, Type::kInetService, 6}},
    {"tcp", "dport", {Field::kDport, Type::kInetService, 6}},
    {"udp", "sport", {Field::kSport, Type::kInetService, 17}},
    {"udp", "dport", {Field::kDport, Type::kInetService, 17}},
    {"dccp", "sport", {Field::kSport, Type::kInetService, 33}},
    {"dccp", "dport", {Field::kDport, Type::kInetService, 33}},
    {"sctp", "sport", {Field::kSport, Type::kInetService, 132}},
    {"sctp", "dport", {Field::kDport, Type::kInetService, 132}},
    {"udplite", "sport", {Field::kSport, Type::kInetService, 136}},
    {"udplite", "dport", {Field::kDport, Type::kInetService, 136}},
};

std::optional<Selector> ParseSelector(Cursor& cursor) {
  for (const SelectorSyntax& syntax : kSelectorSyntax) {
    if (!cursor.PeekWord(syntax.first)) continue;
    if (!syntax.second.empty() && !cursor.PeekWord(syntax.second, 1)) continue;
    cursor.Next();
    if (!syntax.second.empty()) cursor.Next();
    return syntax.selector;
  }
  return std::nullopt;
}

// `f1 . f2 . f3`; an empty result when the cursor is not at a field.
absl::StatusOr<std::vector<Selector>> ParseSelectors(Cursor& cursor) {
  std::vector<Selector> selectors;
  std::optional<Selector> selector = ParseSelector(cursor);
  if (!selector) return selectors;
  selectors.push_back(*selector);
  while (cursor.ConsumeWord(".")) {
    selector = ParseSelector(cursor);
    if (!selector) {
      return ErrorAt(cursor.Peek().line,
                     absl::StrCat("expected a field after '.', got ", Describe(cursor.Peek())));
    }
    selectors.push_back(*selector);
  }
  return selectors;
}

std::vector<Type> TypesOf(const std::vector<Selector>& selectors) {
  std::vector<Type> types;
  for (const Selector& selector : selectors) types.push_back(selector.type);
  return types;
}

bool CarriesPorts(int selector_protocol, uint8_t packet_protocol) {
  if (selector_protocol == kAnyPortProtocol) {
    return absl::c_linear_search(kPortProtocols, packet_protocol);
  }
  return selector_protocol == packet_protocol;
}

// The field's value, or nothing when the packet has no such field (ports of another
// protocol): then the match fails whatever its operator, as the kernel's payload load does.
std::optional<Value> Load(const Selector& selector, const Packet& packet) {
  switch (selector.field) {
    case Field::kSaddr:
      return packet.saddr.value();
    case Field::kDaddr:
      return packet.daddr.value();
    case Field::kL4proto:
      return uint32_t{packet.protocol};
    case Field::kNfProto:
      return uint32_t{2};  // ipv4: every Packet is one
    case Field::kSport:
    case Field::kDport:
      if (!CarriesPorts(selector.protocol, packet.protocol)) return std::nullopt;
      return uint32_t{selector.field == Field::kSport ? packet.sport : packet.dport};
    case Field::kCtState:
      return packet.ct_state;
    case Field::kIifname:
      return packet.iifname;
    case Field::kOifname:
      return packet.oifname;
    case Field::kMark:
      return packet.mark;
  }
  std::abort();  // every Field has a case
}

// ---- Statements ----------------------------------------------------------------------------

enum class Op { kImplicit, kEq, kNe };

enum class Test {
  kCompare,  // the key lies in the one element
  kLookup,   // the key is in a set (named or anonymous)
  kAnyBit,   // `ct state a,b`: (state & bits) != 0
};

struct Match {
  std::vector<Selector> selectors;
  std::optional<uint32_t> mask;  // `& MASK`, applied to the single field first
  Op op = Op::kImplicit;
  Test test = Test::kCompare;
  std::vector<Element> elements;  // kCompare: the value; kLookup of an anonymous set: its elements
  std::string set_name;           // kLookup of a named set, resolved into set_index
  int set_index = -1;
  uint32_t bits = 0;  // kAnyBit
  int line = 0;
};

struct Log {
  std::optional<uint16_t> group;
};

struct SetMark {
  char op = '=';  // mark = value, or mark = mark op value for op in | & ^
  uint32_t value = 0;
};

enum class VerdictKind { kAccept, kDrop, kReturn, kJump, kGoto };

struct Verdict {
  VerdictKind kind;
  std::string chain;  // kJump, kGoto: resolved into chain_index
  int chain_index = -1;
  int line = 0;
};

using Statement = std::variant<Match, Log, SetMark, Verdict>;

struct Rule {
  int line = 0;
  std::string text;
  std::vector<Statement> statements;
};

struct BaseHook {
  std::string type;  // filter, nat, route
  std::string hook;
  int priority = 0;
  Fate policy = Fate::kAccept;
};

struct Chain {
  std::string name;
  int line = 0;
  std::optional<BaseHook> base;
  std::vector<Rule> rules;
};

struct Set {
  std::string name;
  int line = 0;
  std::vector<Type> types;
  bool interval = false;
  std::vector<Element> elements;
};

struct Table {
  std::string family, name;
  bool dormant = false;
  std::vector<Set> sets;
  std::vector<Chain> chains;
};

constexpr absl::string_view kHooks[] = {"prerouting", "input", "forward", "output", "postrouting"};

struct PriorityName {
  absl::string_view name;
  int value;
};
constexpr PriorityName kPriorities[] = {{"raw", -300}, {"mangle", -150}, {"dstnat", -100},
                                        {"filter", 0}, {"security", 50}, {"srcnat", 100}};

absl::StatusOr<int> ParseInt(const Token& token) {
  int value = 0;
  if (token.kind != TokenKind::kWord || !absl::SimpleAtoi(token.text, &value)) {
    return ErrorAt(token.line, absl::StrCat("expected a number, got ", Describe(token)));
  }
  return value;
}

// `-150`, `mangle`, `filter - 1`, `dstnat + 5`.
absl::StatusOr<int> ParsePriority(Cursor& cursor) {
  const Token& token = cursor.Next();
  const auto* named = absl::c_find_if(
      kPriorities, [&](const PriorityName& priority) { return priority.name == token.text; });
  if (named == std::end(kPriorities)) return ParseInt(token);
  const bool plus = cursor.PeekWord("+");
  if (!plus && !cursor.PeekWord("-")) return named->value;
  cursor.Next();
  ASSIGN_OR_RETURN(int offset, ParseInt(cursor.Next()));
  return plus ? named->value + offset : named->value - offset;
}

absl::StatusOr<uint32_t> ParseUnsigned(const Token& token, uint32_t max) {
  ASSIGN_OR_RETURN(int value, ParseInt(token));
  if (value < 0 || static_cast<uint32_t>(value) > max) {
    return ErrorAt(token.line, absl::StrCat(Describe(token), " is out of range"));
  }
  return static_cast<uint32_t>(value);
}

// `ct state` values: a comma list tests bits, a `|` list or a `==`/`!=` compares the whole
// state with the bits ORed (see evaluator.h: this is nft's own reading).
absl::Status ParseCtStates(Cursor& cursor, Match& match) {
  const Token& first = cursor.Next();
  ASSIGN_OR_RETURN(uint32_t bits, ParseNumber(Type::kCtState, first.text, first.line));
  bool commas = false, pipes = false;
  while (cursor.Peek().kind == TokenKind::kComma || cursor.PeekWord("|")) {
    (cursor.Peek().kind == TokenKind::kComma ? commas : pipes) = true;
    cursor.Next();
    const Token& token = cursor.Next();
    ASSIGN_OR_RETURN(uint32_t bit, ParseNumber(Type::kCtState, token.text, token.line));
    bits |= bit;
  }
  if (commas && pipes) return ErrorAt(first.line, "mixed ',' and '|' in a ct state list");
  if (match.op == Op::kImplicit && !pipes) {
    match.test = Test::kAnyBit;
    match.bits = bits;
    return absl::OkStatus();
  }
  if (match.op == Op::kImplicit) match.op = Op::kEq;
  match.test = Test::kCompare;
  match.elements = {{IntRange{bits, bits}}};
  return absl::OkStatus();
}

// FIELDS [& MASK] [==|!=] (VALUE | @SET | { ELEMENTS }).
absl::StatusOr<Match> ParseMatch(Cursor& cursor) {
  Match match;
  match.line = cursor.Peek().line;
  const Token& start = cursor.Peek();
  ASSIGN_OR_RETURN(match.selectors, ParseSelectors(cursor));
  if (match.selectors.empty()) {
    return ErrorAt(start.line, absl::StrCat("unknown statement ", Describe(start)));
  }
  const std::vector<Type> types = TypesOf(match.selectors);
  if (cursor.ConsumeWord("&")) {
    if (types.size() != 1 || types[0] == Type::kIfname || types[0] == Type::kIpv4Addr) {
      return ErrorAt(match.line, "'&' is only supported on a single integer field");
    }
    const Token& mask = cursor.Next();
    ASSIGN_OR_RETURN(match.mask, ParseNumber(types[0], mask.text, mask.line));
  }
  if (cursor.ConsumeWord("==")) {
    match.op = Op::kEq;
  } else if (cursor.ConsumeWord("!=")) {
    match.op = Op::kNe;
  }
  const Token& value = cursor.Peek();
  if (cursor.PeekWord("map") || cursor.PeekWord("vmap")) {
    return ErrorAt(value.line, "maps and verdict maps are not supported");
  }
  if (value.kind == TokenKind::kWord && absl::StartsWith(value.text, "@")) {
    match.test = Test::kLookup;
    match.set_name = value.text.substr(1);
    cursor.Next();
  } else if (value.kind == TokenKind::kOpen) {
    match.test = Test::kLookup;
    ASSIGN_OR_RETURN(match.elements, ParseElementList(cursor, types, /*interval=*/true));
  } else if (types == std::vector<Type>{Type::kCtState}) {
    RETURN_IF_ERROR(ParseCtStates(cursor, match));
  } else {
    ASSIGN_OR_RETURN(Element element, ParseElement(cursor, types, /*interval=*/true));
    match.elements = {std::move(element)};
  }
  return match;
}

// log [prefix "..."] [group N] [level L] [snaplen N] [queue-threshold N]
absl::StatusOr<Log> ParseLog(Cursor& cursor) {
  cursor.Next();
  Log log;
  while (true) {
    if (cursor.ConsumeWord("prefix")) {
      RETURN_IF_ERROR(cursor.Expect(TokenKind::kString, "a quoted prefix"));
    } else if (cursor.ConsumeWord("group")) {
      ASSIGN_OR_RETURN(uint32_t group, ParseUnsigned(cursor.Next(), 0xffff));
      log.group = static_cast<uint16_t>(group);
    } else if (cursor.ConsumeWord("level")) {
      RETURN_IF_ERROR(cursor.Expect(TokenKind::kWord, "a log level"));
    } else if (cursor.ConsumeWord("snaplen") || cursor.ConsumeWord("queue-threshold")) {
      RETURN_IF_ERROR(ParseUnsigned(cursor.Next(), 0xffffffff).status());
    } else {
      return log;
    }
  }
}

// reject [with tcp reset | with icmp[x] [type] CODE]
absl::Status SkipRejectOptions(Cursor& cursor) {
  cursor.Next();
  if (!cursor.ConsumeWord("with")) return absl::OkStatus();
  if (cursor.ConsumeWord("tcp")) return cursor.ExpectWord("reset");
  if (!cursor.ConsumeWord("icmp") && !cursor.ConsumeWord("icmpx")) {
    return ErrorAt(cursor.Peek().line,
                   absl::StrCat("unsupported reject type ", Describe(cursor.Peek())));
  }
  cursor.ConsumeWord("type");
  return cursor.Expect(TokenKind::kWord, "an icmp code");
}

// meta mark set VALUE | meta mark set meta mark (|,&,^) VALUE
absl::StatusOr<SetMark> ParseSetMark(Cursor& cursor) {
  SetMark set;
  if (cursor.ConsumeWord("meta")) {
    RETURN_IF_ERROR(cursor.ExpectWord("mark"));
    const Token& op = cursor.Next();
    if (op.text != "|" && op.text != "&" && op.text != "^") {
      return ErrorAt(op.line, absl::StrCat("unsupported mark operator ", Describe(op)));
    }
    set.op = op.text[0];
  }
  const Token& value = cursor.Next();
  ASSIGN_OR_RETURN(set.value, ParseNumber(Type::kMark, value.text, value.line));
  return set;
}

absl::Status SkipCount(const Token& token) {
  uint64_t count = 0;
  if (token.kind != TokenKind::kWord || !absl::ascii_isdigit(token.text[0]) ||
      !absl::SimpleAtoi(token.text, &count)) {
    return ErrorAt(token.line, absl::StrCat("expected a count, got ", Describe(token)));
  }
  return absl::OkStatus();
}

bool IsNatStatement(const Cursor& cursor) {
  return cursor.PeekWord("masquerade") || cursor.PeekWord("snat") || cursor.PeekWord("dnat") ||
         cursor.PeekWord("redirect");
}

// One statement of a rule; nothing for those without effect here (counter).
absl::StatusOr<std::optional<Statement>> ParseStatement(Cursor& cursor) {
  const int line = cursor.Peek().line;
  if (cursor.ConsumeWord("counter")) {
    if (cursor.ConsumeWord("packets")) {
      RETURN_IF_ERROR(SkipCount(cursor.Next()));
      RETURN_IF_ERROR(cursor.ExpectWord("bytes"));
      RETURN_IF_ERROR(SkipCount(cursor.Next()));
    }
    return std::nullopt;
  }
  if (cursor.PeekWord("log")) {
    ASSIGN_OR_RETURN(Log log, ParseLog(cursor));
    return Statement(log);
  }
  for (auto [word, kind] :
       {std::pair{"accept", VerdictKind::kAccept}, std::pair{"drop", VerdictKind::kDrop},
        std::pair{"return", VerdictKind::kReturn}}) {
    if (cursor.ConsumeWord(word)) return Statement(Verdict{kind, "", -1, line});
  }
  for (auto [word, kind] :
       {std::pair{"jump", VerdictKind::kJump}, std::pair{"goto", VerdictKind::kGoto}}) {
    if (!cursor.ConsumeWord(word)) continue;
    ASSIGN_OR_RETURN(std::string chain, cursor.ExpectName("a chain name"));
    return Statement(Verdict{kind, chain, -1, line});
  }
  if (cursor.PeekWord("reject")) {
    RETURN_IF_ERROR(SkipRejectOptions(cursor));
    return Statement(Verdict{VerdictKind::kDrop, "", -1, line});
  }
  if (IsNatStatement(cursor)) {  // ends evaluation like accept; its arguments do not matter
    while (!cursor.AtEnd() && !cursor.PeekWord("comment")) cursor.Next();
    return Statement(Verdict{VerdictKind::kAccept, "", -1, line});
  }
  if (cursor.PeekWord("meta") && cursor.PeekWord("mark", 1) && cursor.PeekWord("set", 2)) {
    for (int i = 0; i < 3; ++i) cursor.Next();
    ASSIGN_OR_RETURN(SetMark set, ParseSetMark(cursor));
    return Statement(set);
  }
  ASSIGN_OR_RETURN(Match match, ParseMatch(cursor));
  return Statement(std::move(match));
}

// ---- Tables --------------------------------------------------------------------------------

class Parser {
 public:
  Parser(absl::string_view text, std::vector<Token> tokens)
      : text_(text), cursor_(std::move(tokens)) {}

  absl::StatusOr<std::vector<Table>> ParseRuleset() {
    std::vector<Table> tables;
    for (cursor_.SkipSeparators(); !cursor_.AtEnd(); cursor_.SkipSeparators()) {
      ASSIGN_OR_RETURN(Table table, ParseTable());
      tables.push_back(std::move(table));
    }
    return tables;
  }

 private:
  // `NAME {` after a block's keyword.
  absl::StatusOr<std::string> OpenBlock(absl::string_view what) {
    ASSIGN_OR_RETURN(std::string name, cursor_.ExpectName(absl::StrCat("a ", what, " name")));
    RETURN_IF_ERROR(cursor_.Expect(TokenKind::kOpen, "'{'"));
    return name;
  }

  // Runs `item` for each item of the block `what`, opened on `line`, up to its closing `}`.
  absl::Status ParseItems(int line, absl::string_view what,
                          const std::function<absl::Status()>& item) {
    for (cursor_.SkipSeparators(); !cursor_.Consume(TokenKind::kClose); cursor_.SkipSeparators()) {
      if (cursor_.AtEnd()) return ErrorAt(line, absl::StrCat(what, " is not closed"));
      RETURN_IF_ERROR(item());
    }
    return absl::OkStatus();
  }

  // table FAMILY NAME { ... }
  absl::StatusOr<Table> ParseTable() {
    const int line = cursor_.Peek().line;
    RETURN_IF_ERROR(cursor_.ExpectWord("table"));
    Table table;
    ASSIGN_OR_RETURN(table.family, cursor_.ExpectName("a family"));
    if (table.family != "inet" && table.family != "ip") {
      return ErrorAt(line, absl::StrCat("unsupported family '", table.family, "'"));
    }
    ASSIGN_OR_RETURN(table.name, OpenBlock("table"));
    RETURN_IF_ERROR(ParseItems(line, absl::StrCat("table ", table.name),
                               [&] { return ParseTableItem(table); }));
    RETURN_IF_ERROR(Resolve(table));
    return table;
  }

  absl::Status ParseTableItem(Table& table) {
    const Token& start = cursor_.Peek();
    if (cursor_.PeekWord("set")) {
      ASSIGN_OR_RETURN(Set set, ParseSet());
      if (FindNamed(table.sets, set.name) >= 0) {
        return ErrorAt(set.line, "duplicate set " + set.name);
      }
      table.sets.push_back(std::move(set));
      return absl::OkStatus();
    }
    if (cursor_.PeekWord("chain")) {
      ASSIGN_OR_RETURN(Chain chain, ParseChain());
      if (FindNamed(table.chains, chain.name) >= 0) {
        return ErrorAt(chain.line, "duplicate chain " + chain.name);
      }
      table.chains.push_back(std::move(chain));
      return absl::OkStatus();
    }
    if (cursor_.PeekWord("map")) return ErrorAt(start.line, "maps are not supported");
    ASSIGN_OR_RETURN(Cursor statement, cursor_.TakeStatement());
    if (statement.ConsumeWord("flags")) {
      RETURN_IF_ERROR(statement.ExpectWord("dormant"));
      table.dormant = true;
    } else if (statement.ConsumeWord("comment")) {
      RETURN_IF_ERROR(statement.Expect(TokenKind::kString, "a quoted comment"));
    } else {
      return ErrorAt(start.line, absl::StrCat("unsupported table statement ", Describe(start)));
    }
    return statement.ExpectEnd();
  }

  // set NAME { ... }
  absl::StatusOr<Set> ParseSet() {
    Set set;
    set.line = cursor_.Next().line;
    ASSIGN_OR_RETURN(set.name, OpenBlock("set"));
    std::optional<Cursor> elements;  // parsed once the type and flags are known
    RETURN_IF_ERROR(ParseItems(set.line, absl::StrCat("set ", set.name), [&]() -> absl::Status {
      ASSIGN_OR_RETURN(Cursor statement, cursor_.TakeStatement());
      if (!statement.ConsumeWord("elements")) return ParseSetStatement(statement, set);
      RETURN_IF_ERROR(statement.ExpectWord("="));
      elements = std::move(statement);
      return absl::OkStatus();
    }));
    if (set.types.empty()) return ErrorAt(set.line, absl::StrCat("set ", set.name, " has no type"));
    if (elements) {
      ASSIGN_OR_RETURN(set.elements, ParseElementList(*elements, set.types, set.interval));
      RETURN_IF_ERROR(elements->ExpectEnd());
    }
    return set;
  }

  static absl::Status ParseSetStatement(Cursor& statement, Set& set) {
    const Token& start = statement.Peek();
    if (statement.ConsumeWord("type")) {
      do {
        const Token& name = statement.Next();
        const auto* info =
            absl::c_find_if(kTypes, [&](const TypeInfo& t) { return t.name == name.text; });
        if (info == std::end(kTypes)) {
          return ErrorAt(name.line, absl::StrCat("unsupported set type ", Describe(name)));
        }
        set.types.push_back(info->type);
      } while (statement.ConsumeWord("."));
    } else if (statement.ConsumeWord("typeof")) {
      ASSIGN_OR_RETURN(std::vector<Selector> selectors, ParseSelectors(statement));
      if (selectors.empty()) {
        return ErrorAt(start.line, absl::StrCat("unsupported typeof ", Describe(statement.Peek())));
      }
      set.types = TypesOf(selectors);
    } else if (statement.ConsumeWord("flags")) {
      do {
        const Token& flag = statement.Next();
        if (flag.text == "interval") {
          set.interval = true;
        } else if (flag.text != "constant" && flag.text != "dynamic" && flag.text != "timeout") {
          return ErrorAt(flag.line, absl::StrCat("unsupported set flag ", Describe(flag)));
        }
      } while (statement.Consume(TokenKind::kComma));
    } else if (statement.ConsumeWord("size")) {
      RETURN_IF_ERROR(ParseUnsigned(statement.Next(), 0xffffffff).status());
    } else if (statement.ConsumeWord("policy")) {
      RETURN_IF_ERROR(statement.Expect(TokenKind::kWord, "a set policy"));
    } else if (statement.ConsumeWord("comment")) {
      RETURN_IF_ERROR(statement.Expect(TokenKind::kString, "a quoted comment"));
    } else if (!statement.ConsumeWord("auto-merge") && !statement.ConsumeWord("counter")) {
      return ErrorAt(start.line, absl::StrCat("unsupported set statement ", Describe(start)));
    }
    return statement.ExpectEnd();
  }

  // chain NAME { ... }
  absl::StatusOr<Chain> ParseChain() {
    Chain chain;
    chain.line = cursor_.Next().line;
    ASSIGN_OR_RETURN(chain.name, OpenBlock("chain"));
    RETURN_IF_ERROR(
        ParseItems(chain.line, absl::StrCat("chain ", chain.name), [&]() -> absl::Status {
          ASSIGN_OR_RETURN(Cursor statement, cursor_.TakeStatement());
          return ParseChainStatement(statement, chain);
        }));
    return chain;
  }

  absl::Status ParseChainStatement(Cursor& statement, Chain& chain) {
    const Token& start = statement.Peek();
    if (statement.PeekWord("type")) {
      if (chain.base || !chain.rules.empty()) {
        return ErrorAt(start.line, "'type' must come first and once in a chain");
      }
      ASSIGN_OR_RETURN(chain.base, ParseBaseHook(statement));
    } else if (statement.ConsumeWord("policy")) {
      if (!chain.base) return ErrorAt(start.line, "policy in a chain that is not a base chain");
      const Token& policy = statement.Next();
      if (policy.text != "accept" && policy.text != "drop") {
        return ErrorAt(policy.line, absl::StrCat("unsupported policy ", Describe(policy)));
      }
      chain.base->policy = policy.text == "accept" ? Fate::kAccept : Fate::kDrop;
    } else if (statement.ConsumeWord("comment")) {
      RETURN_IF_ERROR(statement.Expect(TokenKind::kString, "a quoted comment"));
    } else if (statement.PeekWord("device") || statement.PeekWord("devices")) {
      return ErrorAt(start.line, "chains bound to devices are not supported");
    } else {
      ASSIGN_OR_RETURN(Rule rule, ParseRule(statement));
      chain.rules.push_back(std::move(rule));
    }
    return statement.ExpectEnd();
  }

  // type filter|nat|route hook HOOK priority PRIORITY
  static absl::StatusOr<BaseHook> ParseBaseHook(Cursor& statement) {
    BaseHook base;
    RETURN_IF_ERROR(statement.ExpectWord("type"));
    const Token& type = statement.Next();
    if (type.text != "filter" && type.text != "nat" && type.text != "route") {
      return ErrorAt(type.line, absl::StrCat("unsupported chain type ", Describe(type)));
    }
    base.type = type.text;
    RETURN_IF_ERROR(statement.ExpectWord("hook"));
    const Token& hook = statement.Next();
    if (!absl::c_linear_search(kHooks, hook.text)) {
      return ErrorAt(hook.line, absl::StrCat("unsupported hook ", Describe(hook)));
    }
    base.hook = hook.text;
    RETURN_IF_ERROR(statement.ExpectWord("priority"));
    ASSIGN_OR_RETURN(base.priority, ParsePriority(statement));
    return base;
  }

  absl::StatusOr<Rule> ParseRule(Cursor& statement) {
    Rule rule;
    rule.line = statement.Peek().line;
    rule.text = statement.RemainingText(text_);
    bool ended = false;  // by a verdict: only a comment may follow
    while (!statement.AtEnd()) {
      const Token& start = statement.Peek();
      if (statement.ConsumeWord("comment")) {
        RETURN_IF_ERROR(statement.Expect(TokenKind::kString, "a quoted comment"));
        if (!statement.AtEnd()) return ErrorAt(start.line, "a comment must end the rule");
        break;
      }
      if (ended) {
        return ErrorAt(start.line, absl::StrCat("statement after the verdict: ", Describe(start)));
      }
      ASSIGN_OR_RETURN(std::optional<Statement> parsed, ParseStatement(statement));
      if (!parsed) continue;
      ended = std::holds_alternative<Verdict>(*parsed);
      rule.statements.push_back(std::move(*parsed));
    }
    return rule;
  }

  // The index of the set or chain called `name`, or -1.
  template <typename Named>
  static int FindNamed(const std::vector<Named>& items, absl::string_view name) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  // Binds `@set` lookups and jump/goto targets, which may be declared later in the table.
  static absl::Status Resolve(Table& table) {
    for (Chain& chain : table.chains) {
      for (Rule& rule : chain.rules) {
        for (Statement& statement : rule.statements) {
          if (auto* match = std::get_if<Match>(&statement); match && !match->set_name.empty()) {
            RETURN_IF_ERROR(ResolveSet(table, *match));
          }
          if (auto* verdict = std::get_if<Verdict>(&statement);
              verdict && !verdict->chain.empty()) {
            RETURN_IF_ERROR(ResolveChain(table, *verdict));
          }
        }
      }
    }
    return absl::OkStatus();
  }

  static absl::Status ResolveSet(const Table& table, Match& match) {
    match.set_index = FindNamed(table.sets, match.set_name);
    if (match.set_index < 0) {
      return ErrorAt(match.line,
                     absl::StrCat("no set '", match.set_name, "' in table ", table.name));
    }
    const std::vector<Type>& held = table.sets[match.set_index].types;
    const std::vector<Type> wanted = TypesOf(match.selectors);
    if (held != wanted) {
      return ErrorAt(match.line, absl::StrCat("set '", match.set_name, "' holds ", TypeNames(held),
                                              ", the match needs ", TypeNames(wanted)));
    }
    return absl::OkStatus();
  }

  static absl::Status ResolveChain(const Table& table, Verdict& verdict) {
    verdict.chain_index = FindNamed(table.chains, verdict.chain);
    if (verdict.chain_index < 0) {
      return ErrorAt(verdict.line,
                     absl::StrCat("no chain '", verdict.chain, "' in table ", table.name));
    }
    if (table.chains[verdict.chain_index].base) {
      return ErrorAt(verdict.line, absl::StrCat("cannot jump to base chain '", verdict.chain, "'"));
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  Cursor cursor_;
};

// ---- Evaluation ----------------------------------------------------------------------------

// The kernel's jump stack (NFT_JUMP_STACK_SIZE).
constexpr size_t kMaxJumpDepth = 16;
// Rules run per packet before giving up: only a goto loop, which the kernel would have refused
// to load, gets near it.
constexpr size_t kMaxRuleRuns = 100'000;

// One packet going through the base chains of one hook.
class Evaluation {
 public:
  explicit Evaluation(const Packet& packet) : packet_(packet) {}

  // Runs a base chain to its verdict: kAccept lets the packet on to the next base chain.
  Fate RunBaseChain(const Table& table, int base) {
    struct Frame {
      int chain;
      size_t next_rule;
    };
    std::vector<Frame> stack = {{base, 0}};
    while (true) {
      const Chain& chain = table.chains[stack.back().chain];
      if (stack.back().next_rule == chain.rules.size()) {  // fell off the end: return
        if (stack.size() == 1) return ApplyPolicy(table, table.chains[base]);
        stack.pop_back();
        continue;
      }
      const size_t index = stack.back().next_rule++;
      if (++rule_runs_ > kMaxRuleRuns) {
        return Fail(table, chain, index, absl::StrCat("more than ", kMaxRuleRuns, " rules run"));
      }
      const std::optional<Verdict> verdict = RunRule(table, chain, index);
      if (!verdict) continue;
      switch (verdict->kind) {
        case VerdictKind::kAccept:
          return Fate::kAccept;
        case VerdictKind::kDrop:
          return Fate::kDrop;
        case VerdictKind::kReturn:
          if (stack.size() == 1) return ApplyPolicy(table, table.chains[base]);
          stack.pop_back();
          break;
        case VerdictKind::kJump:
          if (stack.size() > kMaxJumpDepth) {
            return Fail(table, chain, index,
                        absl::StrCat("more than ", kMaxJumpDepth, " nested jumps"));
          }
          stack.push_back({verdict->chain_index, 0});
          break;
        case VerdictKind::kGoto:
          stack.back() = {verdict->chain_index, 0};
          break;
      }
    }
  }

  Outcome TakeOutcome() { return std::move(outcome_); }

 private:
  // The rule's verdict, or nothing when a match failed or the rule has no verdict.
  std::optional<Verdict> RunRule(const Table& table, const Chain& chain, size_t index) {
    const Rule& rule = chain.rules[index];
    for (const Statement& statement : rule.statements) {
      if (const auto* match = std::get_if<Match>(&statement)) {
        if (!Holds(table, *match)) return std::nullopt;
      } else {
        Execute(statement);  // a verdict can only be last: it is taken below
      }
    }
    outcome_.trace.push_back(
        absl::StrCat(Where(table, chain), " rule ", index + 1, ": ", rule.text));
    if (rule.statements.empty() || !std::holds_alternative<Verdict>(rule.statements.back())) {
      return std::nullopt;
    }
    return std::get<Verdict>(rule.statements.back());
  }

  void Execute(const Statement& statement) {
    if (const auto* log = std::get_if<Log>(&statement)) {
      if (log->group) outcome_.nflog_groups.push_back(*log->group);
    } else if (const auto* set = std::get_if<SetMark>(&statement)) {
      switch (set->op) {
        case '|':
          packet_.mark |= set->value;
          break;
        case '&':
          packet_.mark &= set->value;
          break;
        case '^':
          packet_.mark ^= set->value;
          break;
        default:
          packet_.mark = set->value;
      }
    }
  }

  bool Holds(const Table& table, const Match& match) const {
    std::vector<Value> key;
    for (const Selector& selector : match.selectors) {
      std::optional<Value> value = Load(selector, packet_);
      if (!value) return false;
      key.push_back(std::move(*value));
    }
    if (match.mask) std::get<uint32_t>(key[0]) &= *match.mask;
    if (match.test == Test::kAnyBit) return (std::get<uint32_t>(key[0]) & match.bits) != 0;
    const std::vector<Element>& elements =
        match.set_index >= 0 ? table.sets[match.set_index].elements : match.elements;
    const bool found =
        absl::c_any_of(elements, [&](const Element& element) { return Accepts(element, key); });
    return match.op == Op::kNe ? !found : found;
  }

  Fate ApplyPolicy(const Table& table, const Chain& base) {
    const Fate policy = base.base->policy;
    outcome_.trace.push_back(
        absl::StrCat(Where(table, base), ": policy ", policy == Fate::kAccept ? "accept" : "drop"));
    return policy;
  }

  Fate Fail(const Table& table, const Chain& chain, size_t index, absl::string_view why) {
    outcome_.trace.push_back(
        absl::StrCat(Where(table, chain), " rule ", index + 1, ": ", why, ", dropping"));
    return Fate::kDrop;
  }

  static std::string Where(const Table& table, const Chain& chain) {
    return absl::StrCat(table.family, " ", table.name, " ", chain.name);
  }

  Packet packet_;  // its mark changes with `meta mark set`
  Outcome outcome_;
  size_t rule_runs_ = 0;
};

}  // namespace

struct Ruleset::Parsed {
  std::vector<Table> tables;
};

absl::StatusOr<Ruleset> Ruleset::Parse(absl::string_view text) {
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(text, std::move(tokens));
  ASSIGN_OR_RETURN(std::vector<Table> tables, parser.ParseRuleset());
  return Ruleset(std::make_shared<const Parsed>(Parsed{std::move(tables)}));
}

Outcome Ruleset::Evaluate(absl::string_view hook, const Packet& packet) const {
  if (!absl::c_linear_search(kHooks, hook)) {
    std::cerr << "Ruleset::Evaluate: unknown hook '" << hook << "'\n";
    std::abort();
  }
  struct BaseChain {
    const Table* table;
    int chain;
    int priority;
  };
  std::vector<BaseChain> bases;
  for (const Table& table : parsed_->tables) {
    if (table.dormant) continue;
    for (size_t i = 0; i < table.chains.size(); ++i) {
      const std::optional<BaseHook>& base = table.chains[i].base;
      if (base && base->type == "filter" && base->hook == hook) {
        bases.push_back({&table, static_cast<int>(i), base->priority});
      }
    }
  }
  std::stable_sort(bases.begin(), bases.end(),
                   [](const BaseChain& a, const BaseChain& b) { return a.priority < b.priority; });
  Evaluation evaluation(packet);
  Fate fate = Fate::kAccept;
  for (const BaseChain& base : bases) {
    fate = evaluation.RunBaseChain(*base.table, base.chain);
    if (fate == Fate::kDrop) break;
  }
  Outcome outcome = evaluation.TakeOutcome();
  outcome.fate = fate;
  return outcome;
}

}  // namespace weave::npc::conformance
