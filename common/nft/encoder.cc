#include "common/nft/encoder.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::nft {

namespace {

constexpr size_t kIfnameSize = 16;  // IFNAMSIZ
// ipv4_addr . inet_proto . inet_service: three parts, each rounded up to a 32-bit register.
constexpr size_t kAddrProtoPortSize = 12;
// Element operations are split into messages of at most this many elements, so that a message
// stays well inside one batch page and the 64 KiB limit of a nested netlink attribute.
constexpr size_t kElementsPerMessage = 256;
// nft's own choices: pages of 32 memory pages, room for one message of up to 64 KiB past the end.
constexpr uint32_t kBatchPageSize = 128 * 1024;
constexpr uint32_t kBatchOverrunSize = 128 * 1024;
// A message that outgrew this does not fit the kernel's 16-bit attribute lengths.
constexpr uint32_t kMaxMessageSize = 60 * 1024;
// nft's enum byteorder, stored in the set's user data so that nft lists our sets correctly.
// A concatenation has none of its own (each part has its type's), and nft stores 0, "invalid".
constexpr uint32_t kNoByteOrder = 0;
constexpr uint32_t kHostEndian = 1;
constexpr uint32_t kBigEndian = 2;
// nft's datatype numbers (include/datatype.h) and how it numbers a concatenation of them
// (concat_type_alloc): each part's number in TYPE_BITS bits, the first part in the highest.
constexpr uint32_t kTypeIpaddr = 7;
constexpr uint32_t kTypeInetProtocol = 12;
constexpr uint32_t kTypeInetService = 13;
constexpr uint32_t kTypeMark = 19;
constexpr uint32_t kTypeIfname = 41;
constexpr uint32_t kTypeBits = 6;
constexpr uint32_t ConcatTypeId(std::initializer_list<uint32_t> parts) {
  uint32_t id = 0;
  for (uint32_t part : parts) id = id << kTypeBits | part;
  return id;
}

using UdataPtr = NftnlPtr<nftnl_udata_buf>;

template <typename T>
std::string BytesOf(const T& value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

std::string PaddedIfname(absl::string_view name) {
  std::string bytes(name);
  bytes.resize(kIfnameSize, '\0');
  return bytes;
}

// --------------------------------------------------------------------------------------------
// Rules.

class RuleEncoder {
 public:
  RuleEncoder(Family family, nftnl_rule* rule) : family_(family), rule_(rule) {}

  void Add(const Statement& statement) {
    std::visit([this](const auto& s) { Encode(s); }, statement);
  }

 private:
  nftnl_expr* NewExpr(const char* name) {
    nftnl_expr* expr = nftnl_expr_alloc(name);
    if (expr == nullptr) std::abort();  // Out of memory, or libnftnl lacks a basic expression.
    nftnl_rule_add_expr(rule_, expr);
    return expr;
  }

  void MetaLoad(uint32_t key, uint32_t dreg = NFT_REG_1) {
    nftnl_expr* e = NewExpr("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
  }

  void PayloadLoad(uint32_t base, uint32_t offset, uint32_t length, uint32_t dreg = NFT_REG_1) {
    nftnl_expr* e = NewExpr("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, length);
  }

  void Cmp(uint32_t op, const std::string& data) {
    nftnl_expr* e = NewExpr("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data.data(), data.size());
  }

  void Cmp(Op op, const std::string& data) { Cmp(op == Op::kEq ? NFT_CMP_EQ : NFT_CMP_NEQ, data); }

  void Bitwise(const std::string& mask, const std::string& xor_bits) {
    nftnl_expr* e = NewExpr("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, mask.size());
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask.data(), mask.size());
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor_bits.data(), xor_bits.size());
  }

  void Lookup(const std::string& set, Op op) {
    nftnl_expr* e = NewExpr("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
    if (op == Op::kNeq) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
  }

  // `meta nfproto ipv4` (inet) or `meta protocol ip` (bridge) once per rule before an IPv4 field.
  void PinIpv4() {
    if (ipv4_pinned_ || family_ == Family::kIp) return;
    if (family_ == Family::kInet) {
      MetaLoad(NFT_META_NFPROTO);
      Cmp(NFT_CMP_EQ, BytesOf(static_cast<uint8_t>(NFPROTO_IPV4)));
    } else {
      MetaLoad(NFT_META_PROTOCOL);
      Cmp(NFT_CMP_EQ, BytesOf(htons(ETH_P_IP)));
    }
    ipv4_pinned_ = true;
  }

  // `meta l4proto P` before a port of protocol P, unless the rule already pinned P.
  void PinL4(L4Proto proto) {
    if (l4_pinned_ == proto) return;
    MetaLoad(NFT_META_L4PROTO);
    Cmp(NFT_CMP_EQ, BytesOf(proto.number));
    l4_pinned_ = proto;
  }

  void EncodeAddress(uint32_t offset, Op op, const Value& value) {
    PinIpv4();
    if (const auto* set = std::get_if<SetRef>(&value)) {
      PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
      Lookup(set->name, op);
      return;
    }
    const net::Cidr& cidr = std::get<net::Cidr>(value);
    const std::string address = BytesOf(htonl(cidr.network().value()));
    const int prefix = cidr.prefix_length();
    if (prefix > 0 && prefix % 8 == 0) {
      // Like nft, compare only the bytes a byte-aligned prefix covers.
      PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, offset, prefix / 8);
      Cmp(op, address.substr(0, prefix / 8));
      return;
    }
    PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
    Bitwise(BytesOf(htonl(cidr.mask())), std::string(4, '\0'));
    Cmp(op, address);
  }

  void EncodePort(Op op, const Value& value) {
    PayloadLoad(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);  // offsetof(struct tcphdr, dest)
    if (const auto* set = std::get_if<SetRef>(&value)) {
      Lookup(set->name, op);
      return;
    }
    const PortRange& range = std::get<PortRange>(value);
    const std::string first = BytesOf(htons(range.first));
    const std::string last = BytesOf(htons(range.last));
    if (range.first == range.last) {
      Cmp(op, first);
    } else if (op == Op::kEq) {
      Cmp(NFT_CMP_GTE, first);
      Cmp(NFT_CMP_LTE, last);
    } else {
      nftnl_expr* e = NewExpr("range");
      nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
      nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, first.data(), first.size());
      nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, last.data(), last.size());
    }
  }

  // `ip daddr . meta l4proto . th dport @set`: each part in its own 32-bit register, as nft
  // lays out a concatenation. nft names the first NFT_REG_1, which is the same four bytes as
  // NFT_REG32_00 (and what the kernel dumps it as); the key is 12 bytes from there.
  void EncodeAddrProtoPort(Op op, const SetRef& set) {
    PinIpv4();
    PayloadLoad(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);  // offsetof(struct iphdr, daddr)
    MetaLoad(NFT_META_L4PROTO, NFT_REG32_01);
    PayloadLoad(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_02);  // The destination port.
    Lookup(set.name, op);
  }

  void Encode(const Match& match) {
    const auto* set = std::get_if<SetRef>(&match.value);
    switch (match.field) {
      case Field::kIifname:
      case Field::kOifname: {
        MetaLoad(match.field == Field::kIifname ? NFT_META_IIFNAME : NFT_META_OIFNAME);
        if (set != nullptr) return Lookup(set->name, match.op);
        absl::string_view name = std::get<Ifname>(match.value).name();
        if (absl::EndsWith(name, "*")) {
          name.remove_suffix(1);
          return Cmp(match.op, std::string(name));  // A prefix: compare only its bytes.
        }
        return Cmp(match.op, PaddedIfname(name));
      }
      case Field::kL4Proto: {
        MetaLoad(NFT_META_L4PROTO);
        if (set != nullptr) return Lookup(set->name, match.op);
        const L4Proto proto = std::get<L4Proto>(match.value);
        Cmp(match.op, BytesOf(proto.number));
        if (match.op == Op::kEq) l4_pinned_ = proto;
        return;
      }
      case Field::kIpSaddr:
        return EncodeAddress(12, match.op, match.value);  // offsetof(struct iphdr, saddr)
      case Field::kIpDaddr:
        return EncodeAddress(16, match.op, match.value);  // offsetof(struct iphdr, daddr)
      case Field::kThDport:
        return EncodePort(match.op, match.value);
      case Field::kTcpDport:
        PinL4(kTcp);
        return EncodePort(match.op, match.value);
      case Field::kUdpDport:
        PinL4(kUdp);
        return EncodePort(match.op, match.value);
      case Field::kSctpDport:
        PinL4(kSctp);
        return EncodePort(match.op, match.value);
      case Field::kCtState: {
        nftnl_expr* e = NewExpr("ct");
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        const uint32_t bits = std::get<CtStates>(match.value).bits;
        if (match.op == Op::kNeq) return Cmp(NFT_CMP_NEQ, BytesOf(bits));  // A single state.
        Bitwise(BytesOf(bits), BytesOf(uint32_t{0}));
        return Cmp(NFT_CMP_NEQ, BytesOf(uint32_t{0}));  // Any of the states.
      }
      case Field::kFibDaddrType: {
        nftnl_expr* e = NewExpr("fib");
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        return Cmp(match.op, BytesOf(static_cast<uint32_t>(std::get<AddrType>(match.value))));
      }
      case Field::kIpDaddrL4ProtoThDport:
        return EncodeAddrProtoPort(match.op, std::get<SetRef>(match.value));
      case Field::kMark: {
        MetaLoad(NFT_META_MARK);
        if (set != nullptr) return Lookup(set->name, match.op);
        if (const auto* masked = std::get_if<MaskedMark>(&match.value)) {
          Bitwise(BytesOf(masked->mask), BytesOf(uint32_t{0}));
          return Cmp(match.op, BytesOf(masked->value));
        }
        return Cmp(match.op, BytesOf(std::get<Mark>(match.value).value));
      }
    }
  }

  void Encode(const Counter&) { NewExpr("counter"); }

  void Encode(const Log& log) {
    nftnl_expr* e = NewExpr("log");
    if (!log.prefix.empty()) nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, log.prefix.c_str());
    nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, log.group);
  }

  void Encode(const SetMark& mark) {
    if (mark.or_existing) {
      MetaLoad(NFT_META_MARK);
      Bitwise(BytesOf(~mark.value), BytesOf(mark.value));
    } else {
      nftnl_expr* e = NewExpr("immediate");
      nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
      nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &mark.value, sizeof(mark.value));
    }
    nftnl_expr* e = NewExpr("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
  }

  void Encode(const Masquerade& masquerade) {
    nftnl_expr* e = NewExpr("masq");
    if (masquerade.fully_random) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NF_NAT_RANGE_PROTO_RANDOM_FULLY);
    }
  }

  void Encode(const Verdict& verdict) {
    nftnl_expr* e = NewExpr("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    switch (verdict.kind) {
      case VerdictKind::kAccept:
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
        return;
      case VerdictKind::kDrop:
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
        return;
      case VerdictKind::kReturn:
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(NFT_RETURN));
        return;
      case VerdictKind::kJump:
      case VerdictKind::kGoto:
        nftnl_expr_set_u32(
            e, NFTNL_EXPR_IMM_VERDICT,
            static_cast<uint32_t>(verdict.kind == VerdictKind::kJump ? NFT_JUMP : NFT_GOTO));
        nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, verdict.chain.c_str());
        return;
    }
  }

  const Family family_;
  nftnl_rule* const rule_;
  bool ipv4_pinned_ = false;
  std::optional<L4Proto> l4_pinned_;
};

NftnlRulePtr NewRule(const TableId& table, absl::string_view chain, const Rule& rule) {
  NftnlRulePtr out = NftnlAlloc<nftnl_rule>();
  nftnl_rule_set_u32(out.get(), NFTNL_RULE_FAMILY, FamilyNumber(table.family));
  nftnl_rule_set_str(out.get(), NFTNL_RULE_TABLE, table.name.c_str());
  nftnl_rule_set_str(out.get(), NFTNL_RULE_CHAIN, std::string(chain).c_str());
  RuleEncoder encoder(table.family, out.get());
  for (const Statement& statement : rule.statements) encoder.Add(statement);
  if (!rule.comment.empty()) {
    UdataPtr udata(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    if (udata == nullptr ||
        !nftnl_udata_put_strz(udata.get(), NFTNL_UDATA_RULE_COMMENT, rule.comment.c_str())) {
      std::abort();  // Validation keeps comments far below NFT_USERDATA_MAXLEN.
    }
    nftnl_rule_set_data(out.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata.get()),
                        nftnl_udata_buf_len(udata.get()));
  }
  return out;
}

// --------------------------------------------------------------------------------------------
// Set elements.

uint32_t KeyByteOrder(SetKeyType type) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
    case SetKeyType::kInetService:
      return kBigEndian;
    case SetKeyType::kInetProto:
    case SetKeyType::kIfname:
    case SetKeyType::kMark:
      return kHostEndian;
    case SetKeyType::kIpv4AddrProtoService:
      return kNoByteOrder;
  }
  return kNoByteOrder;
}

// The key one past the last value of an interval element, or nullopt when the interval runs to
// the end of the key space (then the kernel needs no end element).
std::optional<std::string> IntervalEndKey(SetKeyType type, const Element& element) {
  if (const auto* cidr = std::get_if<net::Cidr>(&element)) {
    const uint32_t last = cidr->last().value();
    if (last == UINT32_MAX) return std::nullopt;
    return BytesOf(htonl(last + 1));
  }
  const uint16_t last = std::get<PortRange>(element).last;
  if (last == UINT16_MAX) return std::nullopt;
  return BytesOf(htons(static_cast<uint16_t>(last + 1)));
}

void AddElementKey(nftnl_set* set, const std::string& key, bool interval_end, bool open_ended) {
  nftnl_set_elem* elem = nftnl_set_elem_alloc();
  if (elem == nullptr) std::abort();
  nftnl_set_elem_set(elem, NFTNL_SET_ELEM_KEY, key.data(), key.size());
  if (interval_end) nftnl_set_elem_set_u32(elem, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
  if (open_ended) {
    // nft marks an interval that runs to the end of the key space, so that it lists it as a
    // single value rather than a range.
    UdataPtr udata(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    if (udata == nullptr || !nftnl_udata_put_u32(udata.get(), NFTNL_UDATA_SET_ELEM_FLAGS,
                                                 NFTNL_SET_ELEM_F_INTERVAL_OPEN)) {
      std::abort();
    }
    nftnl_set_elem_set(elem, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(udata.get()),
                       nftnl_udata_buf_len(udata.get()));
  }
  nftnl_set_elem_add(set, elem);
}

void AddElement(nftnl_set* set, const SetShape& shape, const Element& element) {
  const std::string key = ElementKey(shape.key_type, element);
  if (!shape.interval) {
    AddElementKey(set, key, false, false);
    return;
  }
  const std::optional<std::string> end = IntervalEndKey(shape.key_type, element);
  AddElementKey(set, key, false, !end.has_value());
  if (end.has_value()) AddElementKey(set, *end, true, false);
}

// --------------------------------------------------------------------------------------------
// The batch.

std::string MessageName(uint16_t type) {
  switch (type) {
    case NFT_MSG_NEWTABLE:
      return "NEWTABLE";
    case NFT_MSG_DELTABLE:
      return "DELTABLE";
    case NFT_MSG_NEWCHAIN:
      return "NEWCHAIN";
    case NFT_MSG_DELCHAIN:
      return "DELCHAIN";
    case NFT_MSG_NEWSET:
      return "NEWSET";
    case NFT_MSG_DELSET:
      return "DELSET";
    case NFT_MSG_NEWSETELEM:
      return "NEWSETELEM";
    case NFT_MSG_DELSETELEM:
      return "DELSETELEM";
    case NFT_MSG_NEWRULE:
      return "NEWRULE";
    case NFT_MSG_DELRULE:
      return "DELRULE";
  }
  return absl::StrCat("MSG", type);
}

using SetKey = std::tuple<Family, std::string, std::string>;

class BatchWriter {
 public:
  BatchWriter(nftnl_batch* batch, uint32_t first_seq, std::vector<BatchMessage>& messages,
              const SetShapeLookup& lookup)
      : batch_(batch), seq_(first_seq), messages_(messages), lookup_(lookup) {}

  absl::Status Begin() {
    nftnl_batch_begin(static_cast<char*>(nftnl_batch_buffer(batch_)), seq_++);
    return Next();
  }

  absl::Status End() {
    nftnl_batch_end(static_cast<char*>(nftnl_batch_buffer(batch_)), seq_++);
    return Next();
  }

  absl::Status Write(size_t index, const Operation& operation) {
    operation_ = index;
    return std::visit([this](const auto& op) { return Encode(op); }, operation);
  }

 private:
  // Starts a message in the batch; the caller fills its payload and calls Next().
  nlmsghdr* Header(uint16_t type, Family family, uint16_t flags, std::string what,
                   std::string summary) {
    messages_.push_back({seq_, operation_, std::move(what),
                         absl::StrCat(MessageName(type), " ", std::move(summary))});
    return nftnl_nlmsg_build_hdr(static_cast<char*>(nftnl_batch_buffer(batch_)), type,
                                 FamilyNumber(family), flags | NLM_F_ACK, seq_++);
  }

  absl::Status Next() {
    const auto* nlh = static_cast<const nlmsghdr*>(nftnl_batch_buffer(batch_));
    if (nlh->nlmsg_len > kMaxMessageSize) {
      return absl::InvalidArgumentError(
          absl::StrCat(messages_.empty() ? "message" : messages_.back().what, " is too large (",
                       nlh->nlmsg_len, " bytes)"));
    }
    if (nftnl_batch_update(batch_) < 0) return absl::ResourceExhaustedError("out of memory");
    return absl::OkStatus();
  }

  absl::Status WriteTable(const TableId& table, uint16_t type, std::string what) {
    NftnlPtr<nftnl_table> t = NftnlAlloc<nftnl_table>();
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, FamilyNumber(table.family));
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.name.c_str());
    const uint16_t flags = type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0;
    nlmsghdr* nlh =
        Header(type, table.family, flags, std::move(what), absl::StrCat(Describe(table)));
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    if (type == NFT_MSG_DELTABLE) ForgetSets(table);
    return Next();
  }

  absl::Status WriteChain(const TableId& table, const Chain& chain, uint16_t flags) {
    NftnlPtr<nftnl_chain> c = NftnlAlloc<nftnl_chain>();
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, FamilyNumber(table.family));
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.name.c_str());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
    if (chain.base.has_value()) {
      nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, static_cast<uint32_t>(chain.base->hook));
      nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.base->priority);
      nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE,
                          std::string(ChainTypeName(chain.base->type)).c_str());
      nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY,
                          chain.base->policy == Policy::kDrop ? NF_DROP : NF_ACCEPT);
    }
    nlmsghdr* nlh =
        Header(NFT_MSG_NEWCHAIN, table.family, NLM_F_CREATE | flags,
               absl::StrCat("chain ", chain.name), absl::StrCat(Describe(table), " ", chain.name));
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    return Next();
  }

  absl::Status WriteRules(const TableId& table, const Chain& chain) {
    for (size_t i = 0; i < chain.rules.size(); ++i) {
      const std::string what = absl::StrCat("rule ", i + 1, " of chain ", chain.name);
      NftnlRulePtr rule = NewRule(table, chain.name, chain.rules[i]);
      nlmsghdr* nlh = Header(NFT_MSG_NEWRULE, table.family, NLM_F_CREATE | NLM_F_APPEND, what,
                             absl::StrCat(Describe(table), " ", chain.name));
      nftnl_rule_nlmsg_build_payload(nlh, rule.get());
      RETURN_IF_ERROR(Next());
    }
    return absl::OkStatus();
  }

  absl::Status WriteSet(const TableId& table, const Set& set, uint16_t flags) {
    NftnlPtr<nftnl_set> s = NftnlAlloc<nftnl_set>();
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, FamilyNumber(table.family));
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.name.c_str());
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_ID, ++set_id_);
    uint32_t set_flags = 0;
    if (set.interval) set_flags |= NFT_SET_INTERVAL;
    if (set.constant) set_flags |= NFT_SET_CONSTANT;
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, set_flags);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, KeyTypeId(set.key_type));
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, KeyLength(set.key_type));
    UdataPtr udata(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
    if (udata == nullptr || !nftnl_udata_put_u32(udata.get(), NFTNL_UDATA_SET_KEYBYTEORDER,
                                                 KeyByteOrder(set.key_type))) {
      std::abort();
    }
    nftnl_set_set_data(s.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata.get()),
                       nftnl_udata_buf_len(udata.get()));
    nlmsghdr* nlh =
        Header(NFT_MSG_NEWSET, table.family, NLM_F_CREATE | flags, absl::StrCat("set ", set.name),
               absl::StrCat(Describe(table), " ", set.name));
    nftnl_set_nlmsg_build_payload(nlh, s.get());
    RETURN_IF_ERROR(Next());
    shapes_[SetKey(table.family, table.name, set.name)] = {set.key_type, set.interval,
                                                           set.constant};
    return WriteElements(table, set.name, set.elements, NFT_MSG_NEWSETELEM);
  }

  absl::StatusOr<SetShape> ShapeOf(const TableId& table, const std::string& set) {
    const auto it = shapes_.find(SetKey(table.family, table.name, set));
    if (it != shapes_.end()) return it->second;
    ASSIGN_OR_RETURN(std::optional<SetShape> shape, lookup_(table, set));
    if (!shape.has_value()) {
      return absl::NotFoundError(absl::StrCat("set ", set, " does not exist"));
    }
    shapes_[SetKey(table.family, table.name, set)] = *shape;
    return *shape;
  }

  absl::Status WriteElements(const TableId& table, const std::string& set_name,
                             const std::vector<Element>& elements, uint16_t type) {
    if (elements.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(const SetShape shape, ShapeOf(table, set_name));
    Set as_set{set_name, shape.key_type, shape.interval, shape.constant, {}};
    RETURN_IF_ERROR(ValidateElements(as_set, elements));
    const std::vector<Element> sorted = SortedElements(elements);
    for (size_t start = 0; start < sorted.size(); start += kElementsPerMessage) {
      const size_t end = std::min(sorted.size(), start + kElementsPerMessage);
      NftnlPtr<nftnl_set> s = NftnlAlloc<nftnl_set>();
      nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, FamilyNumber(table.family));
      nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.name.c_str());
      nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set_name.c_str());
      for (size_t i = start; i < end; ++i) AddElement(s.get(), shape, sorted[i]);
      const uint16_t flags = type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0;
      nlmsghdr* nlh =
          Header(type, table.family, flags,
                 absl::StrCat("elements ", start + 1, "-", end, " of set ", set_name),
                 absl::StrCat(Describe(table), " ", set_name, " (", end - start, " elements)"));
      nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
      RETURN_IF_ERROR(Next());
    }
    return absl::OkStatus();
  }

  absl::Status WriteDelete(uint16_t type, const TableId& table, const std::string& name) {
    const char* what = type == NFT_MSG_DELSET     ? "set "
                       : type == NFT_MSG_DELCHAIN ? "chain "
                                                  : "flushing chain ";
    nlmsghdr* nlh = Header(type, table.family, 0, absl::StrCat(what, name),
                           absl::StrCat(Describe(table), " ", name));
    if (type == NFT_MSG_DELSET) {
      NftnlPtr<nftnl_set> s = NftnlAlloc<nftnl_set>();
      nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, FamilyNumber(table.family));
      nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.name.c_str());
      nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
      nftnl_set_nlmsg_build_payload(nlh, s.get());
      shapes_.erase(SetKey(table.family, table.name, name));
    } else if (type == NFT_MSG_DELCHAIN) {
      NftnlPtr<nftnl_chain> c = NftnlAlloc<nftnl_chain>();
      nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, FamilyNumber(table.family));
      nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.name.c_str());
      nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name.c_str());
      nftnl_chain_nlmsg_build_payload(nlh, c.get());
    } else {  // NFT_MSG_DELRULE without a handle: every rule of the chain.
      NftnlRulePtr r = NftnlAlloc<nftnl_rule>();
      nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, FamilyNumber(table.family));
      nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.name.c_str());
      nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, name.c_str());
      nftnl_rule_nlmsg_build_payload(nlh, r.get());
    }
    return Next();
  }

  void ForgetSets(const TableId& table) {
    for (auto it = shapes_.begin(); it != shapes_.end();) {
      const auto& [family, table_name, set] = it->first;
      if (family == table.family && table_name == table.name) {
        it = shapes_.erase(it);
      } else {
        ++it;
      }
    }
  }

  absl::Status Encode(const ReplaceTable& op) {
    const TableId id{op.table.family, op.table.name};
    // Create-if-absent then delete makes the delete safe when there is no table yet; the kernel
    // applies the delete and the new table in the same commit.
    RETURN_IF_ERROR(WriteTable(id, NFT_MSG_NEWTABLE, "making sure the table exists"));
    RETURN_IF_ERROR(WriteTable(id, NFT_MSG_DELTABLE, "deleting the old table"));
    RETURN_IF_ERROR(WriteTable(id, NFT_MSG_NEWTABLE, "adding the table"));
    for (const Set& set : op.table.sets) RETURN_IF_ERROR(WriteSet(id, set, 0));
    for (const Chain& chain : op.table.chains) RETURN_IF_ERROR(WriteChain(id, chain, 0));
    for (const Chain& chain : op.table.chains) RETURN_IF_ERROR(WriteRules(id, chain));
    return absl::OkStatus();
  }

  absl::Status Encode(const DeleteTable& op) {
    RETURN_IF_ERROR(WriteTable(op.table, NFT_MSG_NEWTABLE, "making sure the table exists"));
    return WriteTable(op.table, NFT_MSG_DELTABLE, "deleting the table");
  }

  absl::Status Encode(const AddSet& op) { return WriteSet(op.table, op.set, NLM_F_EXCL); }

  absl::Status Encode(const DeleteSet& op) { return WriteDelete(NFT_MSG_DELSET, op.table, op.set); }

  absl::Status Encode(const AddElements& op) {
    return WriteElements(op.table, op.set, op.elements, NFT_MSG_NEWSETELEM);
  }

  absl::Status Encode(const DeleteElements& op) {
    return WriteElements(op.table, op.set, op.elements, NFT_MSG_DELSETELEM);
  }

  absl::Status Encode(const AddChain& op) {
    RETURN_IF_ERROR(WriteChain(op.table, op.chain, NLM_F_EXCL));
    return WriteRules(op.table, op.chain);
  }

  absl::Status Encode(const DeleteChain& op) {
    return WriteDelete(NFT_MSG_DELCHAIN, op.table, op.chain);
  }

  absl::Status Encode(const ReplaceChainRules& op) {
    RETURN_IF_ERROR(WriteDelete(NFT_MSG_DELRULE, op.table, op.chain));
    return WriteRules(op.table, Chain{op.chain, std::nullopt, op.rules});
  }

  nftnl_batch* const batch_;
  uint32_t seq_;
  std::vector<BatchMessage>& messages_;
  const SetShapeLookup& lookup_;
  size_t operation_ = 0;
  uint32_t set_id_ = 0;
  std::map<SetKey, SetShape> shapes_;
};

}  // namespace

// --------------------------------------------------------------------------------------------

uint32_t FamilyNumber(Family family) {
  switch (family) {
    case Family::kInet:
      return NFPROTO_INET;
    case Family::kIp:
      return NFPROTO_IPV4;
    case Family::kBridge:
      return NFPROTO_BRIDGE;
  }
  return NFPROTO_UNSPEC;
}

size_t KeyLength(SetKeyType type) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
    case SetKeyType::kMark:
      return 4;
    case SetKeyType::kInetService:
      return 2;
    case SetKeyType::kInetProto:
      return 1;
    case SetKeyType::kIfname:
      return kIfnameSize;
    case SetKeyType::kIpv4AddrProtoService:
      return kAddrProtoPortSize;
  }
  return 0;
}

uint32_t KeyTypeId(SetKeyType type) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
      return kTypeIpaddr;
    case SetKeyType::kInetProto:
      return kTypeInetProtocol;
    case SetKeyType::kInetService:
      return kTypeInetService;
    case SetKeyType::kMark:
      return kTypeMark;
    case SetKeyType::kIfname:
      return kTypeIfname;
    case SetKeyType::kIpv4AddrProtoService:
      return ConcatTypeId({kTypeIpaddr, kTypeInetProtocol, kTypeInetService});
  }
  return 0;
}

std::optional<SetKeyType> KeyTypeFromId(uint32_t id) {
  for (SetKeyType type :
       {SetKeyType::kIpv4Addr, SetKeyType::kInetProto, SetKeyType::kInetService, SetKeyType::kMark,
        SetKeyType::kIfname, SetKeyType::kIpv4AddrProtoService}) {
    if (KeyTypeId(type) == id) return type;
  }
  return std::nullopt;
}

std::string ElementKey(SetKeyType type, const Element& element) {
  struct Visitor {
    std::string operator()(const net::Cidr& cidr) const {
      return BytesOf(htonl(cidr.network().value()));
    }
    std::string operator()(const PortRange& range) const { return BytesOf(htons(range.first)); }
    std::string operator()(const L4Proto& proto) const { return BytesOf(proto.number); }
    std::string operator()(const Ifname& ifname) const { return PaddedIfname(ifname.name()); }
    std::string operator()(const Mark& mark) const { return BytesOf(mark.value); }
    // Each part padded to 4 bytes, as the parts sit in consecutive 32-bit registers.
    std::string operator()(const AddrProtoPort& triple) const {
      std::string key = BytesOf(htonl(triple.addr.value()));
      key += std::string{static_cast<char>(triple.proto.number), '\0', '\0', '\0'};
      key += BytesOf(htons(triple.port));
      key.resize(kAddrProtoPortSize, '\0');
      return key;
    }
  };
  return std::visit(Visitor{}, element);
}

absl::StatusOr<NftnlRulePtr> EncodeRule(const TableId& table, absl::string_view chain,
                                        const Rule& rule) {
  RETURN_IF_ERROR(ValidateRule(table.family, rule));
  return NewRule(table, chain, rule);
}

std::string RuleText(const nftnl_rule& rule) {
  std::string text(4096, '\0');
  while (true) {
    const int n = nftnl_rule_snprintf(text.data(), text.size(), &rule, NFTNL_OUTPUT_DEFAULT, 0);
    if (n < 0) return "<unprintable rule>";
    if (static_cast<size_t>(n) < text.size()) {
      text.resize(n);
      return text;
    }
    text.resize(2 * static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> EncodeRuleText(const TableId& table, absl::string_view chain,
                                           const Rule& rule) {
  ASSIGN_OR_RETURN(NftnlRulePtr encoded, EncodeRule(table, chain, rule));
  return RuleText(*encoded);
}

struct Batch::Impl {
  NftnlPtr<nftnl_batch> batch;
  std::vector<BatchMessage> messages;
  absl::flat_hash_map<uint32_t, size_t> index_by_seq;
};

Batch::Batch(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;
Batch::~Batch() = default;

std::vector<iovec> Batch::Iovecs() const {
  std::vector<iovec> iovecs(nftnl_batch_iovec_len(impl_->batch.get()));
  nftnl_batch_iovec(impl_->batch.get(), iovecs.data(), iovecs.size());
  return iovecs;
}

size_t Batch::size_bytes() const {
  size_t total = 0;
  for (const iovec& iov : Iovecs()) total += iov.iov_len;
  return total;
}

const std::vector<BatchMessage>& Batch::messages() const { return impl_->messages; }

const BatchMessage* Batch::Find(uint32_t seq) const {
  const auto it = impl_->index_by_seq.find(seq);
  return it == impl_->index_by_seq.end() ? nullptr : &impl_->messages[it->second];
}

absl::StatusOr<Batch> EncodeTransaction(const Transaction& transaction, uint32_t first_seq,
                                        const SetShapeLookup& lookup) {
  RETURN_IF_ERROR(ValidateTransaction(transaction));
  auto impl = std::make_unique<Batch::Impl>();
  impl->batch.reset(nftnl_batch_alloc(kBatchPageSize, kBatchOverrunSize));
  if (impl->batch == nullptr) return absl::ResourceExhaustedError("out of memory");
  BatchWriter writer(impl->batch.get(), first_seq, impl->messages, lookup);
  RETURN_IF_ERROR(writer.Begin());
  for (size_t i = 0; i < transaction.operations.size(); ++i) {
    const Operation& operation = transaction.operations[i];
    absl::Status status = writer.Write(i, operation);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(Describe(operation), ": ", status.message()));
    }
  }
  RETURN_IF_ERROR(writer.End());
  for (size_t i = 0; i < impl->messages.size(); ++i) {
    impl->index_by_seq[impl->messages[i].seq] = i;
  }
  return Batch(std::move(impl));
}

}  // namespace weave::nft
