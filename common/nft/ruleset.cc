#include "common/nft/ruleset.h"

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::nft {
namespace {

// Words that nft 1.0.6 cannot read back as a table, chain or set name (in a definition, a
// `jump NAME` or a `@NAME`). Found by feeding every word of nft(8) to `nft -c`; the parser's
// keyword set depends on the position, so names like "forward" or "filter" are fine.
constexpr std::array kNftKeywords = {
    "accept",     "add",      "ah",       "all",      "and",      "arp",      "bridge",
    "cgroup",     "chain",    "comment",  "comp",     "constant", "continue", "counter",
    "cpu",        "create",   "ct",       "day",      "dccp",     "define",   "delete",
    "describe",   "device",   "devices",  "dnat",     "drop",     "dst",      "dup",
    "dynamic",    "ecn",      "element",  "elements", "esp",      "ether",    "exists",
    "expires",    "export",   "exthdr",   "fib",      "flags",    "flow",     "flowtable",
    "flush",      "frag",     "fwd",      "get",      "goto",     "handle",   "hbh",
    "hook",       "hour",     "ibrname",  "icmp",     "icmpv6",   "igmp",     "iif",
    "iifgroup",   "iifname",  "iiftype",  "import",   "include",  "index",    "inet",
    "insert",     "interval", "ip",       "ip6",      "ipsec",    "jhash",    "jump",
    "limit",      "list",     "ll",       "log",      "lt",       "map",      "mark",
    "masquerade", "meta",     "mh",       "missing",  "monitor",  "ne",       "netdev",
    "nftrace",    "nh",       "not",      "notrack",  "numgen",   "obrname",  "offload",
    "oif",        "oifgroup", "oifname",  "oiftype",  "or",       "osf",      "pkttype",
    "policy",     "position", "priority", "queue",    "quota",    "random",   "redefine",
    "redirect",   "reject",   "rename",   "replace",  "reset",    "return",   "rt",
    "rtclassid",  "rule",     "ruleset",  "sctp",     "secmark",  "set",      "size",
    "skgid",      "skuid",    "snat",     "socket",   "srh",      "symhash",  "synproxy",
    "table",      "tcp",      "th",       "time",     "timeout",  "tproxy",   "type",
    "typeof",     "udp",      "udplite",  "undefine", "update",   "vlan",     "vmap",
    "xt",
};

constexpr int kMaxNameLength = 255;       // NFT_NAME_MAXLEN includes the NUL.
constexpr int kMaxCommentLength = 128;    // NFTNL_UDATA_COMMENT_MAXLEN, as nft enforces it.
constexpr int kMaxLogPrefixLength = 127;  // NF_LOG_PREFIXLEN includes the NUL.
constexpr int kMaxIfnameLength = 15;      // IFNAMSIZ includes the NUL.
// Keeps a rule's netlink message far below the kernel's 64 KiB attribute limit.
constexpr size_t kMaxStatements = 128;
constexpr uint32_t kKnownCtStates =
    kCtInvalid | kCtEstablished | kCtRelated | kCtNew | kCtUntracked;

bool IsKeyword(absl::string_view name) {
  static const auto* const keywords =
      new absl::flat_hash_set<absl::string_view>(kNftKeywords.begin(), kNftKeywords.end());
  return keywords->contains(name);
}

// Text nft cannot print back inside "...": quotes and control characters.
bool HasQuote(absl::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

absl::Status Invalid(absl::string_view where, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
}

std::tuple<uint32_t, int> CidrKey(const net::Cidr& cidr) {
  return {cidr.address().value(), cidr.prefix_length()};
}

absl::Status ValidateIfname(absl::string_view name, bool allow_wildcard) {
  absl::string_view stem = name;
  if (allow_wildcard && absl::EndsWith(stem, "*")) stem.remove_suffix(1);
  if (stem.empty()) return absl::InvalidArgumentError("empty interface name");
  if (stem.size() > kMaxIfnameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("interface name \"", name, "\" is longer than ", kMaxIfnameLength, " bytes"));
  }
  if (HasQuote(stem) || stem.find('*') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad interface name \"", name, "\""));
  }
  return absl::OkStatus();
}

absl::Status ValidateCidr(const net::Cidr& cidr) {
  if (!cidr.IsNetwork()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cidr.ToString(), " has host bits set; use ", cidr.Network().ToString()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePortRange(const PortRange& range) {
  if (range.first > range.last) {
    return absl::InvalidArgumentError(
        absl::StrCat("port range ", range.first, "-", range.last, " is empty"));
  }
  return absl::OkStatus();
}

// Whether `value` holds the alternative a field of this key type is compared with.
bool SuitsKeyType(SetKeyType type, const Value& value) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
      return std::holds_alternative<net::Cidr>(value);
    case SetKeyType::kInetService:
      return std::holds_alternative<PortRange>(value);
    case SetKeyType::kInetProto:
      return std::holds_alternative<L4Proto>(value);
    case SetKeyType::kIfname:
      return std::holds_alternative<Ifname>(value);
    case SetKeyType::kMark:
      return std::holds_alternative<Mark>(value) || std::holds_alternative<MaskedMark>(value);
    case SetKeyType::kIpv4AddrProtoService:
      return false;  // Only looked up in a set.
  }
  return false;
}

absl::Status ValidateMatch(Family family, const Match& match) {
  if (const auto* set = std::get_if<SetRef>(&match.value)) {
    if (!KeyTypeOf(match.field).has_value()) {
      return absl::InvalidArgumentError("this field cannot be looked up in a set");
    }
    return ValidateName(set->name, "set name");
  }
  switch (match.field) {
    case Field::kCtState: {
      const auto* states = std::get_if<CtStates>(&match.value);
      if (states == nullptr) return absl::InvalidArgumentError("ct state needs CtStates");
      if (states->bits == 0 || (states->bits & ~kKnownCtStates) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad ct states 0x", absl::Hex(states->bits)));
      }
      // nft encodes `ct state != a,b` as "state differs from the bit pattern a|b", which is
      // always true; say what is meant with one match per state instead.
      if (match.op == Op::kNeq && (states->bits & (states->bits - 1)) != 0) {
        return absl::InvalidArgumentError("ct state != takes a single state");
      }
      return absl::OkStatus();
    }
    case Field::kIpDaddrL4ProtoThDport:
      return absl::InvalidArgumentError(
          "ip daddr . meta l4proto . th dport can only be looked up in a set");
    case Field::kFibDaddrType:
      if (!std::holds_alternative<AddrType>(match.value)) {
        return absl::InvalidArgumentError("fib daddr type needs an AddrType");
      }
      if (family == Family::kBridge) {
        return absl::InvalidArgumentError("fib is not available in the bridge family");
      }
      return absl::OkStatus();
    default:
      break;
  }
  const SetKeyType key_type = *KeyTypeOf(match.field);
  if (!SuitsKeyType(key_type, match.value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("value does not suit a field of type ", SetKeyTypeName(key_type)));
  }
  if (const auto* cidr = std::get_if<net::Cidr>(&match.value)) return ValidateCidr(*cidr);
  if (const auto* range = std::get_if<PortRange>(&match.value)) return ValidatePortRange(*range);
  if (const auto* ifname = std::get_if<Ifname>(&match.value)) {
    return ValidateIfname(ifname->name(), /*allow_wildcard=*/true);
  }
  if (const auto* masked = std::get_if<MaskedMark>(&match.value)) {
    if ((masked->value & ~masked->mask) != 0) {
      return absl::InvalidArgumentError("masked mark value has bits outside its mask");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStatement(Family family, const Statement& statement) {
  if (const auto* match = std::get_if<Match>(&statement)) return ValidateMatch(family, *match);
  if (const auto* log = std::get_if<Log>(&statement)) {
    if (log->prefix.size() > kMaxLogPrefixLength || HasQuote(log->prefix)) {
      return absl::InvalidArgumentError(absl::StrCat("log prefix must be at most ",
                                                     kMaxLogPrefixLength,
                                                     " bytes without '\"' or control characters"));
    }
    return absl::OkStatus();
  }
  if (std::holds_alternative<Masquerade>(statement) && family == Family::kBridge) {
    return absl::InvalidArgumentError("masquerade is not available in the bridge family");
  }
  if (const auto* verdict = std::get_if<Verdict>(&statement)) {
    const bool takes_chain =
        verdict->kind == VerdictKind::kJump || verdict->kind == VerdictKind::kGoto;
    if (takes_chain) return ValidateName(verdict->chain, "jump target");
    if (!verdict->chain.empty()) {
      return absl::InvalidArgumentError("only jump and goto name a chain");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateBaseChain(Family family, const BaseChain& base) {
  if (base.type == ChainType::kNat) {
    if (family == Family::kBridge) {
      return absl::InvalidArgumentError("nat chains are not supported in the bridge family");
    }
    if (base.hook == Hook::kForward) {
      return absl::InvalidArgumentError("nat chains cannot hook forward");
    }
    if (base.priority <= -200) {  // NF_IP_PRI_CONNTRACK: NAT must run after conntrack.
      return absl::InvalidArgumentError("nat chains need a priority above -200");
    }
  }
  return absl::OkStatus();
}

// First and last value of an interval element as 32-bit numbers (addresses and ports).
std::pair<uint32_t, uint32_t> Bounds(const Element& element) {
  if (const auto* cidr = std::get_if<net::Cidr>(&element)) {
    return {cidr->network().value(), cidr->last().value()};
  }
  const auto& range = std::get<PortRange>(element);
  return {range.first, range.last};
}

std::optional<L4Proto> ProtocolOfDport(Field field) {
  switch (field) {
    case Field::kTcpDport:
      return kTcp;
    case Field::kUdpDport:
      return kUdp;
    case Field::kSctpDport:
      return kSctp;
    default:
      return std::nullopt;
  }
}

Field DportFieldOf(L4Proto proto) {
  if (proto == kTcp) return Field::kTcpDport;
  if (proto == kUdp) return Field::kUdpDport;
  return Field::kSctpDport;
}

// The protocol a statement pins meta l4proto to (`meta l4proto tcp`), if any.
std::optional<L4Proto> PinnedProtocol(const Statement& statement) {
  const auto* match = std::get_if<Match>(&statement);
  if (match == nullptr || match->field != Field::kL4Proto || match->op != Op::kEq) {
    return std::nullopt;
  }
  const auto* proto = std::get_if<L4Proto>(&match->value);
  if (proto == nullptr) return std::nullopt;
  return *proto;
}

// Pointers to `items` ordered by name.
template <typename T>
std::vector<const T*> ByName(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const T& item : items) out.push_back(&item);
  std::sort(out.begin(), out.end(), [](const T* a, const T* b) { return a->name < b->name; });
  return out;
}

template <typename T>
bool SameItems(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  const std::vector<const T*> sorted_a = ByName(a);
  const std::vector<const T*> sorted_b = ByName(b);
  for (size_t i = 0; i < sorted_a.size(); ++i) {
    if (!(*sorted_a[i] == *sorted_b[i])) return false;
  }
  return true;
}

}  // namespace

absl::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kInet:
      return "inet";
    case Family::kIp:
      return "ip";
    case Family::kBridge:
      return "bridge";
  }
  return "?";
}

absl::string_view ChainTypeName(ChainType type) {
  return type == ChainType::kNat ? "nat" : "filter";
}

absl::string_view HookName(Hook hook) {
  switch (hook) {
    case Hook::kPrerouting:
      return "prerouting";
    case Hook::kInput:
      return "input";
    case Hook::kForward:
      return "forward";
    case Hook::kOutput:
      return "output";
    case Hook::kPostrouting:
      return "postrouting";
  }
  return "?";
}

absl::string_view PolicyName(Policy policy) { return policy == Policy::kDrop ? "drop" : "accept"; }

absl::string_view SetKeyTypeName(SetKeyType type) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
      return "ipv4_addr";
    case SetKeyType::kInetService:
      return "inet_service";
    case SetKeyType::kInetProto:
      return "inet_proto";
    case SetKeyType::kIfname:
      return "ifname";
    case SetKeyType::kMark:
      return "mark";
    case SetKeyType::kIpv4AddrProtoService:
      return "ipv4_addr . inet_proto . inet_service";
  }
  return "?";
}

bool ElementLess(const Element& a, const Element& b) {
  if (a.index() != b.index()) return a.index() < b.index();
  if (const auto* cidr = std::get_if<net::Cidr>(&a)) {
    return CidrKey(*cidr) < CidrKey(std::get<net::Cidr>(b));
  }
  return std::visit(
      [&b](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, net::Cidr>) {
          return false;  // Handled above.
        } else {
          return value < std::get<T>(b);
        }
      },
      a);
}

Ifname::Ifname(absl::string_view name) {
  size_ = static_cast<uint8_t>(std::min(name.size(), kCapacity));
  std::copy_n(name.data(), size_, chars_);
}

bool IsCanonical(const std::vector<Element>& elements) {
  return std::adjacent_find(elements.begin(), elements.end(),
                            [](const Element& a, const Element& b) {
                              return !ElementLess(a, b);
                            }) == elements.end();
}

std::vector<Element> SortedElements(std::vector<Element> elements) {
  if (IsCanonical(elements)) return elements;
  std::sort(elements.begin(), elements.end(), ElementLess);
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  return elements;
}

const std::vector<Element>& CanonicalElements(const std::vector<Element>& elements,
                                              std::vector<Element>& scratch) {
  if (IsCanonical(elements)) return elements;
  scratch = SortedElements(elements);
  return scratch;
}

bool operator==(const Set& a, const Set& b) {
  if (a.name != b.name || a.key_type != b.key_type || a.interval != b.interval ||
      a.constant != b.constant) {
    return false;
  }
  std::vector<Element> scratch_a, scratch_b;
  return CanonicalElements(a.elements, scratch_a) == CanonicalElements(b.elements, scratch_b);
}

bool SameContent(const Table& a, const Table& b) {
  return a.family == b.family && a.name == b.name && SameItems(a.chains, b.chains) &&
         SameItems(a.sets, b.sets);
}

const Chain* Table::FindChain(absl::string_view chain_name) const {
  for (const Chain& chain : chains) {
    if (chain.name == chain_name) return &chain;
  }
  return nullptr;
}

Chain* Table::FindChain(absl::string_view chain_name) {
  return const_cast<Chain*>(std::as_const(*this).FindChain(chain_name));
}

const Set* Table::FindSet(absl::string_view set_name) const {
  for (const Set& set : sets) {
    if (set.name == set_name) return &set;
  }
  return nullptr;
}

Set* Table::FindSet(absl::string_view set_name) {
  return const_cast<Set*>(std::as_const(*this).FindSet(set_name));
}

std::optional<SetKeyType> KeyTypeOf(Field field) {
  switch (field) {
    case Field::kIifname:
    case Field::kOifname:
      return SetKeyType::kIfname;
    case Field::kL4Proto:
      return SetKeyType::kInetProto;
    case Field::kIpSaddr:
    case Field::kIpDaddr:
      return SetKeyType::kIpv4Addr;
    case Field::kThDport:
    case Field::kTcpDport:
    case Field::kUdpDport:
    case Field::kSctpDport:
      return SetKeyType::kInetService;
    case Field::kMark:
      return SetKeyType::kMark;
    case Field::kIpDaddrL4ProtoThDport:
      return SetKeyType::kIpv4AddrProtoService;
    case Field::kCtState:
    case Field::kFibDaddrType:
      return std::nullopt;
  }
  return std::nullopt;
}

SetKeyType KeyTypeOf(const Element& element) {
  struct Visitor {
    SetKeyType operator()(const net::Cidr&) const { return SetKeyType::kIpv4Addr; }
    SetKeyType operator()(const PortRange&) const { return SetKeyType::kInetService; }
    SetKeyType operator()(const L4Proto&) const { return SetKeyType::kInetProto; }
    SetKeyType operator()(const Ifname&) const { return SetKeyType::kIfname; }
    SetKeyType operator()(const Mark&) const { return SetKeyType::kMark; }
    SetKeyType operator()(const AddrProtoPort&) const { return SetKeyType::kIpv4AddrProtoService; }
  };
  return std::visit(Visitor{}, element);
}

absl::Status ValidateName(absl::string_view name, absl::string_view what) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(what, " \"", name, "\" ", why));
  };
  if (name.empty()) return bad("is empty");
  if (name.size() > kMaxNameLength) return bad(absl::StrCat("is longer than ", kMaxNameLength));
  if (!absl::ascii_isalpha(static_cast<unsigned char>(name[0]))) {
    return bad("must start with a letter");
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return bad("may only contain letters, digits, '_', '-' and '.'");
    }
  }
  if (IsKeyword(name)) return bad("is an nft keyword; nft could not read it back");
  return absl::OkStatus();
}

absl::Status ValidateRule(Family family, const Rule& rule) {
  if (rule.comment.size() > kMaxCommentLength || HasQuote(rule.comment)) {
    return absl::InvalidArgumentError(absl::StrCat("comment must be at most ", kMaxCommentLength,
                                                   " bytes without '\"' or control characters"));
  }
  if (rule.statements.size() > kMaxStatements) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxStatements, " statements in one rule"));
  }
  for (size_t i = 0; i < rule.statements.size(); ++i) {
    const Statement& statement = rule.statements[i];
    absl::Status status = ValidateStatement(family, statement);
    if (!status.ok()) {
      return Invalid(absl::StrCat("statement ", i + 1, " (", ToText(statement), ")"),
                     status.message());
    }
    if (std::holds_alternative<Verdict>(statement) && i + 1 != rule.statements.size()) {
      return Invalid(absl::StrCat("statement ", i + 1, " (", ToText(statement), ")"),
                     "a verdict must be the last statement");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateElements(const Set& set, const std::vector<Element>& elements) {
  for (const Element& element : elements) {
    const auto bad = [&](absl::string_view why) {
      return Invalid(absl::StrCat("element ", ToText(element)), why);
    };
    if (KeyTypeOf(element) != set.key_type) {
      return bad(absl::StrCat("does not suit a set of type ", SetKeyTypeName(set.key_type)));
    }
    absl::Status status = absl::OkStatus();
    if (const auto* cidr = std::get_if<net::Cidr>(&element)) {
      status = ValidateCidr(*cidr);
      if (status.ok() && !set.interval && cidr->prefix_length() != 32) {
        return bad("is a network; the set needs the interval flag");
      }
    } else if (const auto* range = std::get_if<PortRange>(&element)) {
      status = ValidatePortRange(*range);
      if (status.ok() && !set.interval && range->first != range->last) {
        return bad("is a range; the set needs the interval flag");
      }
    } else if (const auto* ifname = std::get_if<Ifname>(&element)) {
      status = ValidateIfname(ifname->name(), /*allow_wildcard=*/false);
    }
    if (!status.ok()) return bad(status.message());
  }
  if (set.interval) {
    // The kernel refuses overlapping intervals (EEXIST); say which ones here.
    const std::vector<Element> sorted = SortedElements(elements);
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (Bounds(sorted[i]).first <= Bounds(sorted[i - 1]).second) {
        return Invalid(absl::StrCat("elements ", ToText(sorted[i - 1]), " and ", ToText(sorted[i])),
                       "overlap");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSet(const Set& set) {
  const std::string where = absl::StrCat("set ", set.name);
  absl::Status status = ValidateName(set.name, "set name");
  if (!status.ok()) return status;
  if (set.interval && set.key_type != SetKeyType::kIpv4Addr &&
      set.key_type != SetKeyType::kInetService) {
    return Invalid(where, "only ipv4_addr and inet_service sets take the interval flag");
  }
  status = ValidateElements(set, set.elements);
  if (!status.ok()) return Invalid(where, status.message());
  return absl::OkStatus();
}

absl::Status ValidateTable(const Table& table) {
  RETURN_IF_ERROR(ValidateName(table.name, "table name"));
  absl::flat_hash_set<absl::string_view> names;
  for (const Set& set : table.sets) {
    if (!names.insert(set.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two sets named ", set.name));
    }
    RETURN_IF_ERROR(ValidateSet(set));
  }
  names.clear();
  for (const Chain& chain : table.chains) {
    if (!names.insert(chain.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("two chains named ", chain.name));
    }
    RETURN_IF_ERROR(ValidateName(chain.name, "chain name"));
    const std::string chain_where = absl::StrCat("chain ", chain.name);
    absl::Status status;
    if (chain.base.has_value()) {
      status = ValidateBaseChain(table.family, *chain.base);
      if (!status.ok()) return Invalid(chain_where, status.message());
    }
    for (size_t i = 0; i < chain.rules.size(); ++i) {
      status = ValidateRule(table.family, chain.rules[i]);
      if (!status.ok()) {
        return Invalid(absl::StrCat("rule ", i + 1, " of chain ", chain.name), status.message());
      }
    }
  }
  return absl::OkStatus();
}

Rule Normalize(Rule rule) {
  std::optional<L4Proto> pinned;
  std::vector<Statement> out;
  out.reserve(rule.statements.size());
  for (Statement& statement : rule.statements) {
    if (auto* match = std::get_if<Match>(&statement)) {
      if (match->field == Field::kThDport && pinned.has_value() &&
          (*pinned == kTcp || *pinned == kUdp || *pinned == kSctp)) {
        match->field = DportFieldOf(*pinned);
      }
      const std::optional<L4Proto> own = ProtocolOfDport(match->field);
      if (own.has_value()) {
        if (!out.empty() && PinnedProtocol(out.back()) == own) {
          out.pop_back();  // The dport match's own dependency.
        }
        pinned = own;  // The encoder pins the protocol before such a match.
      }
    }
    if (std::optional<L4Proto> proto = PinnedProtocol(statement)) pinned = proto;
    out.push_back(std::move(statement));
  }
  rule.statements = std::move(out);
  return rule;
}

Table Normalize(Table table) {
  for (Chain& chain : table.chains) {
    for (Rule& rule : chain.rules) rule = Normalize(std::move(rule));
  }
  return table;
}

}  // namespace weave::nft
