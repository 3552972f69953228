// An nftables ruleset as a plain value: tables, chains, sets and rules made of high-level
// statements. Compilers (the router's masquerade table, weave-npc's policy table) build these
// values; a Backend applies them; Dump reads them back; ToText renders them the way
// `nft list table` does, for goldens and for debugging.
//
// Only what this project needs is modelled: IPv4, the inet/ip/bridge families, filter and nat base
// chains, named sets of addresses, ports, protocols, interface names, marks and (address, protocol,
// port) triples, and the statements listed under Statement. Values are cheap to copy and compare;
// nothing here touches the OS.
//
// Equality is semantic where nftables itself does not keep an order or a value:
//  - set elements compare as sets (order and duplicates ignored);
//  - Counter values and Rule::handle are ignored (the kernel fills them in).
// Chains, sets and rules compare in order, since the kernel keeps (and lists) them in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"

namespace weave::nft {

enum class Family { kInet, kIp, kBridge };
enum class ChainType { kFilter, kNat };
enum class Hook { kPrerouting, kInput, kForward, kOutput, kPostrouting };
enum class Policy { kAccept, kDrop };

// "inet", "ip", "bridge"; "filter", "nat"; "prerouting", ...; "accept", "drop".
absl::string_view FamilyName(Family family);
absl::string_view ChainTypeName(ChainType type);
absl::string_view HookName(Hook hook);
absl::string_view PolicyName(Policy policy);

// ---------------------------------------------------------------------------------------------
// Values: what a match compares against and what a set holds.

// A transport port or an inclusive range of ports; a single port has first == last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};
constexpr PortRange Port(uint16_t port) { return {port, port}; }

// An IP protocol number (meta l4proto).
struct L4Proto {
  uint8_t number = 0;
  friend auto operator<=>(const L4Proto&, const L4Proto&) = default;
};
inline constexpr L4Proto kIcmp{1};
inline constexpr L4Proto kTcp{6};
inline constexpr L4Proto kUdp{17};
inline constexpr L4Proto kSctp{132};

// An interface name. In a match (not in a set) a trailing '*' makes it a prefix: "vethwe*".
// Kept inline (names are at most 15 bytes) so that Element stays trivially copyable; a longer name
// is cut at kCapacity bytes, which the Validate* functions then reject as too long.
class Ifname {
 public:
  static constexpr size_t kCapacity = 32;

  constexpr Ifname() = default;
  explicit Ifname(absl::string_view name);
  explicit Ifname(const char* name) : Ifname(absl::string_view(name)) {}

  absl::string_view name() const { return absl::string_view(chars_, size_); }

  friend bool operator==(const Ifname& a, const Ifname& b) { return a.view() == b.view(); }
  friend auto operator<=>(const Ifname& a, const Ifname& b) { return a.view() <=> b.view(); }

 private:
  std::string_view view() const { return std::string_view(chars_, size_); }

  char chars_[kCapacity] = {};
  uint8_t size_ = 0;
};

// A packet mark (meta mark).
struct Mark {
  uint32_t value = 0;
  friend auto operator<=>(const Mark&, const Mark&) = default;
};

// `meta mark & mask == value`: some bits of the mark.
struct MaskedMark {
  uint32_t mask = 0;
  uint32_t value = 0;
  friend auto operator<=>(const MaskedMark&, const MaskedMark&) = default;
};

// Conntrack states as the kernel's bits; combine with |.
enum CtStateBits : uint32_t {
  kCtInvalid = 1,
  kCtEstablished = 2,
  kCtRelated = 4,
  kCtNew = 8,
  kCtUntracked = 64,
};
struct CtStates {
  uint32_t bits = 0;
  friend auto operator<=>(const CtStates&, const CtStates&) = default;
};

// Route types for `fib daddr type` (the kernel's RTN_* values).
enum class AddrType : uint32_t { kUnicast = 1, kLocal = 2, kBroadcast = 3, kMulticast = 5 };

// A reference to a named set of the same table: `@name`.
struct SetRef {
  std::string name;
  friend auto operator<=>(const SetRef&, const SetRef&) = default;
};

// A destination address, protocol and port together: an element of a set looked up by
// `ip daddr . meta l4proto . th dport @set` (weave-npc's named ports), printed as nft prints it:
// `10.32.0.5 . tcp . 8080`.
struct AddrProtoPort {
  net::Ipv4 addr;
  L4Proto proto;
  uint16_t port = 0;
  friend auto operator<=>(const AddrProtoPort&, const AddrProtoPort&) = default;
};

// An element of a set. Addresses are networks (host bits zero); a /32 is a single address. In a
// set without the interval flag only single addresses and single ports are allowed.
using Element = std::variant<net::Cidr, PortRange, L4Proto, Ifname, Mark, AddrProtoPort>;

// A total order on elements (by kind, then value), used to sort and compare them.
bool ElementLess(const Element& a, const Element& b);

// The elements in ElementLess order without repeats: the canonical form of a set's elements.
// Elements already in that form are returned as they are, without sorting.
std::vector<Element> SortedElements(std::vector<Element> elements);

// Whether `elements` is in canonical form already (strictly increasing in ElementLess order), as
// compilers and Dump produce it.
bool IsCanonical(const std::vector<Element>& elements);

// The canonical form of `elements` without a copy when they are in it already: `elements` itself,
// or `scratch` filled with SortedElements(elements). Valid while both arguments live.
const std::vector<Element>& CanonicalElements(const std::vector<Element>& elements,
                                              std::vector<Element>& scratch);

// ---------------------------------------------------------------------------------------------
// Statements.

// What a match looks at.
enum class Field {
  kIifname,       // iifname        Ifname | SetRef(ifname)
  kOifname,       // oifname        Ifname | SetRef(ifname)
  kL4Proto,       // meta l4proto   L4Proto | SetRef(inet_proto)
  kIpSaddr,       // ip saddr       Cidr | SetRef(ipv4_addr)
  kIpDaddr,       // ip daddr       Cidr | SetRef(ipv4_addr)
  kThDport,       // th dport       PortRange | SetRef(inet_service); any transport protocol
  kTcpDport,      // tcp dport      PortRange | SetRef(inet_service)
  kUdpDport,      // udp dport      PortRange | SetRef(inet_service)
  kSctpDport,     // sctp dport     PortRange | SetRef(inet_service)
  kCtState,       // ct state       CtStates (Eq: any of them; Neq: exactly one state)
  kFibDaddrType,  // fib daddr type AddrType
  kMark,          // meta mark      Mark | MaskedMark | SetRef(mark)
  // ip daddr . meta l4proto . th dport: only SetRef(ipv4_addr . inet_proto . inet_service)
  kIpDaddrL4ProtoThDport,
};

enum class Op { kEq, kNeq };

using Value = std::variant<net::Cidr, PortRange, L4Proto, Ifname, Mark, MaskedMark, CtStates,
                           AddrType, SetRef>;

// `field [!=] value`, e.g. `ip saddr != 10.32.0.0/12`, `tcp dport @ports`.
struct Match {
  Field field = Field::kIifname;
  Op op = Op::kEq;
  Value value;
  friend bool operator==(const Match&, const Match&) = default;
};

// Packet and byte counts are filled in by Dump and ignored by ==.
struct Counter {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  friend bool operator==(const Counter&, const Counter&) { return true; }
};

// `log prefix "..." group N`: the packet goes to NFLOG group N (prefix may be empty).
struct Log {
  std::string prefix;
  uint16_t group = 0;
  friend bool operator==(const Log&, const Log&) = default;
};

// `meta mark set V`, or with or_existing `meta mark set meta mark | V`.
struct SetMark {
  uint32_t value = 0;
  bool or_existing = false;
  friend bool operator==(const SetMark&, const SetMark&) = default;
};

// `masquerade [fully-random]`; only in nat postrouting chains.
struct Masquerade {
  bool fully_random = false;
  friend bool operator==(const Masquerade&, const Masquerade&) = default;
};

enum class VerdictKind { kAccept, kDrop, kReturn, kJump, kGoto };

// A verdict; `chain` names the target of a jump or goto (a regular chain of the same table).
struct Verdict {
  VerdictKind kind = VerdictKind::kAccept;
  std::string chain;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

using Statement = std::variant<Match, Counter, Log, SetMark, Masquerade, Verdict>;

struct Rule {
  std::vector<Statement> statements;
  std::string comment;  // Empty for none; at most 128 bytes, no '"' or control characters.
  // Set by Dump (the kernel's handle), 0 otherwise; ignored by ==.
  uint64_t handle = 0;
  // Set by Dump for a rule it could not decode into statements (someone else's rule): the
  // expressions as libnftnl prints them. Such a rule equals no rule we build, so a planner
  // replaces it.
  std::string undecoded;

  friend bool operator==(const Rule& a, const Rule& b) {
    return a.statements == b.statements && a.comment == b.comment && a.undecoded == b.undecoded;
  }
};

// Shorthands that keep rule-building code readable:
//   Rule{{Is(Field::kOifname, Ifname{"weave"}), IsNot(Field::kIpSaddr, range), Accept()}}
inline Match Is(Field field, Value value) { return {field, Op::kEq, std::move(value)}; }
inline Match IsNot(Field field, Value value) { return {field, Op::kNeq, std::move(value)}; }
inline Match InSet(Field field, std::string set) { return Is(field, SetRef{std::move(set)}); }
inline Match NotInSet(Field field, std::string set) { return IsNot(field, SetRef{std::move(set)}); }
inline Verdict Accept() { return {VerdictKind::kAccept, {}}; }
inline Verdict Drop() { return {VerdictKind::kDrop, {}}; }
inline Verdict Return() { return {VerdictKind::kReturn, {}}; }
inline Verdict Jump(std::string chain) { return {VerdictKind::kJump, std::move(chain)}; }
inline Verdict Goto(std::string chain) { return {VerdictKind::kGoto, std::move(chain)}; }

// ---------------------------------------------------------------------------------------------
// Tables.

struct BaseChain {
  ChainType type = ChainType::kFilter;
  Hook hook = Hook::kForward;
  int priority = 0;
  Policy policy = Policy::kAccept;
  friend bool operator==(const BaseChain&, const BaseChain&) = default;
};

struct Chain {
  std::string name;
  std::optional<BaseChain> base;  // Absent for a regular chain (a jump/goto target).
  std::vector<Rule> rules;
  friend bool operator==(const Chain&, const Chain&) = default;
};

enum class SetKeyType {
  kIpv4Addr,
  kInetService,
  kInetProto,
  kIfname,
  kMark,
  kIpv4AddrProtoService,  // Holds AddrProtoPort.
};

// "ipv4_addr", "inet_service", "inet_proto", "ifname", "mark",
// "ipv4_addr . inet_proto . inet_service".
absl::string_view SetKeyTypeName(SetKeyType type);

struct Set {
  std::string name;
  SetKeyType key_type = SetKeyType::kIpv4Addr;
  bool interval = false;  // Holds ranges (CIDRs, port ranges); ipv4_addr and inet_service only.
  bool constant = false;  // Elements are fixed when the set is created.
  std::vector<Element> elements;

  // Elements compare as sets.
  friend bool operator==(const Set& a, const Set& b);
};

struct Table {
  Family family = Family::kInet;
  std::string name;
  std::vector<Chain> chains;
  std::vector<Set> sets;

  // Chains and sets compare in order; see SameContent for a comparison that ignores it.
  friend bool operator==(const Table&, const Table&) = default;

  // Lookups by name; nullptr if absent. Pointers are invalidated by changes to the vectors.
  const Chain* FindChain(absl::string_view chain_name) const;
  Chain* FindChain(absl::string_view chain_name);
  const Set* FindSet(absl::string_view set_name) const;
  Set* FindSet(absl::string_view set_name);
};

// Whether `a` and `b` hold the same chains and sets, whatever their order: what a table that was
// changed step by step (the kernel lists chains and sets in the order they were added) is to
// compare with a compiler's output. Rules within a chain still compare in order.
bool SameContent(const Table& a, const Table& b);

// ---------------------------------------------------------------------------------------------
// Checks and canonical forms.

// InvalidArgument unless `name` can name a table, chain or set and be read back by nft(8):
// [A-Za-z][A-Za-z0-9_.-]*, at most 255 bytes, and not one of the words nft's parser treats as a
// keyword in that position (e.g. "fwd", "accept", "ip", "set"), since such names make
// `nft list` output unparseable. `what` is used in the message ("chain name").
absl::Status ValidateName(absl::string_view name, absl::string_view what);

// Checks what can be checked on one value without the kernel: names, that each match's value
// suits its field, element kinds suit the set's key type (and are networks / in order ranges),
// comment and log prefix lengths and characters, base chain hooks suit the family. It does not
// check references (jump targets, set names): the kernel does that, and so does FakeBackend.
// InvalidArgument naming the offending chain/rule/set.
absl::Status ValidateTable(const Table& table);
absl::Status ValidateRule(Family family, const Rule& rule);
absl::Status ValidateSet(const Set& set);
absl::Status ValidateElements(const Set& set, const std::vector<Element>& elements);

// The form in which Dump returns a rule, which nft also prints: a `th dport` after
// `meta l4proto tcp|udp|sctp` in the same rule becomes `tcp|udp|sctp dport`, and a
// `meta l4proto X` immediately followed by `X dport` is dropped (it is that match's own
// dependency). Compilers that compare their output with a dump should normalize first.
Rule Normalize(Rule rule);
Table Normalize(Table table);

// The set key type a field is compared with, e.g. kIpSaddr -> kIpv4Addr; nullopt for fields
// that cannot be looked up in a set (ct state, fib).
std::optional<SetKeyType> KeyTypeOf(Field field);

// The set key type an element belongs in, e.g. Cidr -> kIpv4Addr.
SetKeyType KeyTypeOf(const Element& element);

// ---------------------------------------------------------------------------------------------
// Text.

// The table as `nft list table FAMILY NAME` prints it (tabs, blank lines between blocks, named
// priorities such as "filter" and "srcnat + 5", elements sorted and wrapped the way nft wraps
// them, counters with their values). Differences from nft: protocol numbers without a name in
// ToText's short list print as numbers, and an explicit `meta l4proto X` that nft would hide as a
// dependency is printed. Output ends with a newline.
std::string ToText(const Table& table);
std::string ToText(const Rule& rule);  // One line, no indentation, no newline.
std::string ToText(const Statement& statement);
std::string ToText(const Element& element);

}  // namespace weave::nft
