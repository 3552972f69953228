// ToText: the model rendered the way `nft list table` (nft 1.0.6) prints it.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/nft/ruleset.h"

namespace weave::nft {
namespace {

struct NamedValue {
  int value;
  const char* name;
};

// Standard priorities nft prints by name, in the order it tries them.
constexpr std::array<NamedValue, 6> kInetPriorities = {{
    {-300, "raw"},
    {-150, "mangle"},
    {-100, "dstnat"},
    {0, "filter"},
    {50, "security"},
    {100, "srcnat"},
}};
constexpr std::array<NamedValue, 4> kBridgePriorities = {{
    {-300, "dstnat"},
    {-200, "filter"},
    {100, "out"},
    {300, "srcnat"},
}};

// Some names only make sense on one hook; elsewhere nft prints the number.
bool PriorityNameSuitsHook(absl::string_view name, Hook hook) {
  if (name == "dstnat") return hook == Hook::kPrerouting;
  if (name == "srcnat") return hook == Hook::kPostrouting;
  if (name == "out") return hook == Hook::kOutput;
  return true;
}

std::string PriorityText(Family family, Hook hook, int priority) {
  constexpr int kMaxOffset = 10;
  const auto try_names = [&](const auto& names) -> std::string {
    for (const NamedValue& named : names) {
      if (!PriorityNameSuitsHook(named.name, hook)) continue;
      const int offset = priority - named.value;
      if (offset == 0) return named.name;
      if (std::abs(offset) <= kMaxOffset) {
        return absl::StrCat(named.name, offset > 0 ? " + " : " - ", std::abs(offset));
      }
    }
    return absl::StrCat(priority);
  };
  return family == Family::kBridge ? try_names(kBridgePriorities) : try_names(kInetPriorities);
}

std::string ProtocolText(L4Proto proto) {
  // The names nft takes from /etc/protocols, for the protocols one meets in practice.
  static constexpr std::array<NamedValue, 11> kNames = {{
      {0, "ip"},
      {1, "icmp"},
      {2, "igmp"},
      {6, "tcp"},
      {17, "udp"},
      {47, "gre"},
      {50, "esp"},
      {51, "ah"},
      {58, "ipv6-icmp"},
      {132, "sctp"},
      {136, "udplite"},
  }};
  for (const NamedValue& named : kNames) {
    if (named.value == proto.number) return named.name;
  }
  return absl::StrCat(proto.number);
}

std::string CtStatesText(uint32_t bits) {
  static constexpr std::array<NamedValue, 5> kNames = {{
      {kCtInvalid, "invalid"},
      {kCtEstablished, "established"},
      {kCtRelated, "related"},
      {kCtNew, "new"},
      {kCtUntracked, "untracked"},
  }};
  std::vector<std::string> names;
  for (const NamedValue& named : kNames) {
    if ((bits & static_cast<uint32_t>(named.value)) != 0) names.push_back(named.name);
  }
  return absl::StrJoin(names, ",");
}

std::string AddrTypeText(AddrType type) {
  switch (type) {
    case AddrType::kUnicast:
      return "unicast";
    case AddrType::kLocal:
      return "local";
    case AddrType::kBroadcast:
      return "broadcast";
    case AddrType::kMulticast:
      return "multicast";
  }
  return absl::StrCat(static_cast<uint32_t>(type));
}

std::string MarkText(uint32_t mark) { return absl::StrFormat("0x%08x", mark); }

std::string CidrText(const net::Cidr& cidr) {
  return cidr.prefix_length() == 32 ? cidr.address().ToString() : cidr.ToString();
}

std::string PortRangeText(const PortRange& range) {
  return range.first == range.last ? absl::StrCat(range.first)
                                   : absl::StrCat(range.first, "-", range.last);
}

std::string FieldText(Field field) {
  switch (field) {
    case Field::kIifname:
      return "iifname";
    case Field::kOifname:
      return "oifname";
    case Field::kL4Proto:
      return "meta l4proto";
    case Field::kIpSaddr:
      return "ip saddr";
    case Field::kIpDaddr:
      return "ip daddr";
    case Field::kThDport:
      return "th dport";
    case Field::kTcpDport:
      return "tcp dport";
    case Field::kUdpDport:
      return "udp dport";
    case Field::kSctpDport:
      return "sctp dport";
    case Field::kCtState:
      return "ct state";
    case Field::kFibDaddrType:
      return "fib daddr type";
    case Field::kMark:
      return "meta mark";
    case Field::kIpDaddrL4ProtoThDport:
      return "ip daddr . meta l4proto . th dport";
  }
  return "?";
}

std::string ValueText(const Value& value) {
  struct Visitor {
    std::string operator()(const net::Cidr& cidr) const { return CidrText(cidr); }
    std::string operator()(const PortRange& range) const { return PortRangeText(range); }
    std::string operator()(const L4Proto& proto) const { return ProtocolText(proto); }
    std::string operator()(const Ifname& ifname) const {
      return absl::StrCat("\"", ifname.name(), "\"");
    }
    std::string operator()(const Mark& mark) const { return MarkText(mark.value); }
    std::string operator()(const MaskedMark& masked) const { return MarkText(masked.value); }
    std::string operator()(const CtStates& states) const { return CtStatesText(states.bits); }
    std::string operator()(const AddrType& type) const { return AddrTypeText(type); }
    std::string operator()(const SetRef& set) const { return absl::StrCat("@", set.name); }
  };
  return std::visit(Visitor{}, value);
}

std::string MatchText(const Match& match) {
  const char* op = match.op == Op::kNeq ? "!= " : "";
  if (const auto* masked = std::get_if<MaskedMark>(&match.value)) {
    return absl::StrCat("meta mark & ", MarkText(masked->mask),
                        match.op == Op::kNeq ? " != " : " == ", MarkText(masked->value));
  }
  return absl::StrCat(FieldText(match.field), " ", op, ValueText(match.value));
}

std::string VerdictText(const Verdict& verdict) {
  switch (verdict.kind) {
    case VerdictKind::kAccept:
      return "accept";
    case VerdictKind::kDrop:
      return "drop";
    case VerdictKind::kReturn:
      return "return";
    case VerdictKind::kJump:
      return absl::StrCat("jump ", verdict.chain);
    case VerdictKind::kGoto:
      return absl::StrCat("goto ", verdict.chain);
  }
  return "?";
}

// The bytes of a key that nft reads as one host byte order (little-endian) number to sort it:
// interface names NUL-padded to 16 bytes, and concatenations as the unpadded bytes of their parts
// (address and port in network order). Empty for keys nft sorts as the model does.
std::string HostOrderKey(const Element& element) {
  if (const auto* ifname = std::get_if<Ifname>(&element)) {
    std::string padded(ifname->name());
    padded.resize(16, '\0');
    return padded;
  }
  if (const auto* triple = std::get_if<AddrProtoPort>(&element)) {
    const uint32_t addr = triple->addr.value();
    return {static_cast<char>(addr >> 24),
            static_cast<char>(addr >> 16),
            static_cast<char>(addr >> 8),
            static_cast<char>(addr),
            static_cast<char>(triple->proto.number),
            static_cast<char>(triple->port >> 8),
            static_cast<char>(triple->port)};
  }
  return {};
}

// nft lists elements sorted by their value as a number in the key's byte order: addresses, ports
// and protocols numerically, interface names and concatenations (host byte order) from the last
// byte.
bool ListingLess(const Element& a, const Element& b) {
  const std::string key_a = HostOrderKey(a);
  const std::string key_b = HostOrderKey(b);
  if (key_a.empty() || key_b.empty()) return ElementLess(a, b);
  return std::lexicographical_compare(
      key_a.rbegin(), key_a.rend(), key_b.rbegin(), key_b.rend(),
      [](char x, char y) { return static_cast<unsigned char>(x) < static_cast<unsigned char>(y); });
}

// How many elements nft puts on one line of `elements = { ... }`; 1 for strings and
// concatenations.
int ElementsPerLine(SetKeyType type) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
      return 2;
    case SetKeyType::kInetService:
    case SetKeyType::kInetProto:
    case SetKeyType::kMark:
      return 5;
    case SetKeyType::kIfname:
    case SetKeyType::kIpv4AddrProtoService:
      return 1;
  }
  return 1;
}

struct ElementText {
  std::string operator()(const AddrProtoPort& triple) const {
    return absl::StrCat(triple.addr.ToString(), " . ", ProtocolText(triple.proto), " . ",
                        triple.port);
  }
  // Every other kind of element is also a Value and prints as one.
  template <typename T>
  std::string operator()(const T& element) const {
    return ValueText(Value(element));
  }
};

void AppendSet(const Set& set, std::string& out) {
  absl::StrAppend(&out, "\tset ", set.name, " {\n\t\ttype ", SetKeyTypeName(set.key_type), "\n");
  std::vector<std::string> flags;
  if (set.constant) flags.push_back("constant");
  if (set.interval) flags.push_back("interval");
  if (!flags.empty()) absl::StrAppend(&out, "\t\tflags ", absl::StrJoin(flags, ","), "\n");
  if (!set.elements.empty()) {
    std::vector<Element> elements = set.elements;
    std::sort(elements.begin(), elements.end(), ListingLess);
    elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
    const int per_line = ElementsPerLine(set.key_type);
    absl::StrAppend(&out, "\t\telements = { ");
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i > 0) absl::StrAppend(&out, i % per_line == 0 ? ",\n\t\t\t     " : ", ");
      absl::StrAppend(&out, ToText(elements[i]));
    }
    absl::StrAppend(&out, " }\n");
  }
  absl::StrAppend(&out, "\t}\n");
}

void AppendChain(Family family, const Chain& chain, std::string& out) {
  absl::StrAppend(&out, "\tchain ", chain.name, " {\n");
  if (chain.base.has_value()) {
    const BaseChain& base = *chain.base;
    absl::StrAppend(&out, "\t\ttype ", ChainTypeName(base.type), " hook ", HookName(base.hook),
                    " priority ", PriorityText(family, base.hook, base.priority), "; policy ",
                    PolicyName(base.policy), ";\n");
  }
  for (const Rule& rule : chain.rules) absl::StrAppend(&out, "\t\t", ToText(rule), "\n");
  absl::StrAppend(&out, "\t}\n");
}

}  // namespace

std::string ToText(const Element& element) { return std::visit(ElementText{}, element); }

std::string ToText(const Statement& statement) {
  struct Visitor {
    std::string operator()(const Match& match) const { return MatchText(match); }
    std::string operator()(const Counter& counter) const {
      return absl::StrCat("counter packets ", counter.packets, " bytes ", counter.bytes);
    }
    std::string operator()(const Log& log) const {
      if (log.prefix.empty()) return absl::StrCat("log group ", log.group);
      return absl::StrCat("log prefix \"", log.prefix, "\" group ", log.group);
    }
    std::string operator()(const SetMark& mark) const {
      return absl::StrCat("meta mark set ", mark.or_existing ? "meta mark | " : "",
                          MarkText(mark.value));
    }
    std::string operator()(const Masquerade& masquerade) const {
      return masquerade.fully_random ? "masquerade fully-random" : "masquerade";
    }
    std::string operator()(const Verdict& verdict) const { return VerdictText(verdict); }
  };
  return std::visit(Visitor{}, statement);
}

std::string ToText(const Rule& rule) {
  if (!rule.undecoded.empty()) {
    return absl::StrCat("# undecoded: ", absl::StrReplaceAll(rule.undecoded, {{"\n", " "}}));
  }
  std::vector<std::string> parts;
  parts.reserve(rule.statements.size() + 1);
  for (const Statement& statement : rule.statements) parts.push_back(ToText(statement));
  if (!rule.comment.empty()) parts.push_back(absl::StrCat("comment \"", rule.comment, "\""));
  return absl::StrJoin(parts, " ");
}

std::string ToText(const Table& table) {
  std::string out = absl::StrCat("table ", FamilyName(table.family), " ", table.name, " {\n");
  bool first = true;
  const auto separate = [&] {
    if (!first) absl::StrAppend(&out, "\n");
    first = false;
  };
  for (const Set& set : table.sets) {
    separate();
    AppendSet(set, out);
  }
  for (const Chain& chain : table.chains) {
    separate();
    AppendChain(table.family, chain, out);
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

}  // namespace weave::nft
