#include "common/nft/decoder.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/nft/encoder.h"
#include "common/status_macros.h"

namespace weave::nft {
namespace {

std::string Data(const nftnl_expr* e, uint16_t attr) {
  uint32_t length = 0;
  const void* data = nftnl_expr_get(e, attr, &length);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data), length);
}

template <typename T>
bool As(const std::string& bytes, T& out) {
  if (bytes.size() != sizeof(T)) return false;
  std::memcpy(&out, bytes.data(), sizeof(T));
  return true;
}

absl::Status Unsupported(absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat("cannot decode ", what));
}

// Decodes the expressions of one rule, statement by statement.
class RuleDecoder {
 public:
  explicit RuleDecoder(const nftnl_rule& rule) {
    nftnl_expr_iter* iter = nftnl_expr_iter_create(&rule);
    if (iter == nullptr) std::abort();
    for (nftnl_expr* e = nftnl_expr_iter_next(iter); e != nullptr; e = nftnl_expr_iter_next(iter)) {
      exprs_.push_back(e);
    }
    nftnl_expr_iter_destroy(iter);
  }

  absl::StatusOr<std::vector<Statement>> Decode() {
    while (next_ < exprs_.size()) RETURN_IF_ERROR(DecodeStatement());
    if (pending_ipv4_check_) return Unsupported("a protocol check without an IPv4 match");
    return std::move(out_);
  }

 private:
  // The next expression if it is called `name`, else nullptr; does not consume it.
  const nftnl_expr* Peek(absl::string_view name, size_t ahead = 0) const {
    if (next_ + ahead >= exprs_.size()) return nullptr;
    const nftnl_expr* e = exprs_[next_ + ahead];
    const char* actual = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    return actual != nullptr && name == actual ? e : nullptr;
  }

  // Consumes and returns the next expression if it is called `name`.
  absl::StatusOr<const nftnl_expr*> Take(absl::string_view name) {
    const nftnl_expr* e = Peek(name);
    if (e == nullptr) return Unsupported(absl::StrCat("a sequence without the expected ", name));
    ++next_;
    return e;
  }

  // Whether the register attribute names the first register: NFT_REG_1, or NFT_REG32_00 for the
  // same bytes (nft uses the former, also in concatenations, and the kernel dumps it so).
  static bool Reg1(const nftnl_expr* e, uint16_t attr) {
    return IsReg(e, attr, NFT_REG_1) || IsReg(e, attr, NFT_REG32_00);
  }

  static bool IsReg(const nftnl_expr* e, uint16_t attr, uint32_t reg) {
    return nftnl_expr_is_set(e, attr) && nftnl_expr_get_u32(e, attr) == reg;
  }

  void Emit(Statement statement) { out_.push_back(std::move(statement)); }

  absl::Status DecodeStatement() {
    const nftnl_expr* e = exprs_[next_++];
    const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (name == "meta" && Reg1(e, NFTNL_EXPR_META_DREG)) {
      return DecodeMeta(nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY));
    }
    if (name == "payload" && Reg1(e, NFTNL_EXPR_PAYLOAD_DREG)) return DecodePayload(e);
    if (name == "ct" && Reg1(e, NFTNL_EXPR_CT_DREG) && !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) &&
        nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_STATE) {
      return DecodeCtState();
    }
    if (name == "fib" && Reg1(e, NFTNL_EXPR_FIB_DREG) &&
        nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT) == NFT_FIB_RESULT_ADDRTYPE &&
        nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS) == NFTA_FIB_F_DADDR) {
      return DecodeCompare(Field::kFibDaddrType);
    }
    if (name == "counter") {
      Emit(Counter{nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
                   nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES)});
      return absl::OkStatus();
    }
    if (name == "log") return DecodeLog(e);
    if (name == "masq") return DecodeMasquerade(e);
    if (name == "immediate") return DecodeImmediate(e);
    return Unsupported(absl::StrCat("expression ", name));
  }

  absl::Status DecodeMeta(uint32_t key) {
    switch (key) {
      case NFT_META_IIFNAME:
        return DecodeCompare(Field::kIifname);
      case NFT_META_OIFNAME:
        return DecodeCompare(Field::kOifname);
      case NFT_META_L4PROTO:
        return DecodeCompare(Field::kL4Proto);
      case NFT_META_MARK:
        if (Peek("bitwise") != nullptr && Peek("meta", 1) != nullptr) return DecodeMarkOr();
        return DecodeCompare(Field::kMark);
      case NFT_META_NFPROTO:
        return DecodeIpv4Check(std::string(1, static_cast<char>(NFPROTO_IPV4)));
      case NFT_META_PROTOCOL: {
        const uint16_t ip = htons(ETH_P_IP);
        return DecodeIpv4Check(std::string(reinterpret_cast<const char*>(&ip), sizeof(ip)));
      }
    }
    return Unsupported(absl::StrCat("meta key ", key));
  }

  // `meta nfproto ipv4` / `meta protocol ip`: the dependency of a following IPv4 match.
  absl::Status DecodeIpv4Check(const std::string& expected) {
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    if (nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ ||
        Data(cmp, NFTNL_EXPR_CMP_DATA) != expected) {
      return Unsupported("a protocol check other than IPv4");
    }
    pending_ipv4_check_ = true;
    return absl::OkStatus();
  }

  absl::Status DecodePayload(const nftnl_expr* e) {
    const uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
    const uint32_t offset = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
    const uint32_t length = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
    if (base == NFT_PAYLOAD_NETWORK_HEADER && (offset == 12 || offset == 16) && length >= 1 &&
        length <= 4) {
      pending_ipv4_check_ = false;
      if (offset == 16 && length == 4 && NextLoadsL4ProtoAndPort()) {
        next_ += 2;
        return DecodeCompare(Field::kIpDaddrL4ProtoThDport);  // Only a lookup decodes.
      }
      return DecodeAddress(offset == 12 ? Field::kIpSaddr : Field::kIpDaddr, length);
    }
    if (base == NFT_PAYLOAD_TRANSPORT_HEADER && offset == 2 && length == 2) {
      return DecodeCompare(Field::kThDport);
    }
    return Unsupported(absl::StrCat("payload ", base, "+", offset, "/", length));
  }

  // After `ip daddr` into the first register: meta l4proto into the second 32-bit register and
  // th dport into the third, the rest of the key of `ip daddr . meta l4proto . th dport`.
  bool NextLoadsL4ProtoAndPort() const {
    const nftnl_expr* meta = Peek("meta");
    const nftnl_expr* port = Peek("payload", 1);
    return meta != nullptr && port != nullptr && IsReg(meta, NFTNL_EXPR_META_DREG, NFT_REG32_01) &&
           nftnl_expr_get_u32(meta, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO &&
           IsReg(port, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_02) &&
           nftnl_expr_get_u32(port, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER &&
           nftnl_expr_get_u32(port, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
           nftnl_expr_get_u32(port, NFTNL_EXPR_PAYLOAD_LEN) == 2;
  }

  static Op OpOf(uint32_t cmp_op) { return cmp_op == NFT_CMP_NEQ ? Op::kNeq : Op::kEq; }
  static bool IsEqOrNeq(uint32_t cmp_op) { return cmp_op == NFT_CMP_EQ || cmp_op == NFT_CMP_NEQ; }

  // A set lookup of the loaded field, if that is what comes next.
  absl::StatusOr<bool> TryLookup(Field field) {
    const nftnl_expr* lookup = Peek("lookup");
    if (lookup == nullptr) return false;
    ++next_;
    if (!Reg1(lookup, NFTNL_EXPR_LOOKUP_SREG) ||
        nftnl_expr_is_set(lookup, NFTNL_EXPR_LOOKUP_DREG)) {
      return Unsupported("a map lookup");
    }
    const uint32_t flags = nftnl_expr_is_set(lookup, NFTNL_EXPR_LOOKUP_FLAGS)
                               ? nftnl_expr_get_u32(lookup, NFTNL_EXPR_LOOKUP_FLAGS)
                               : 0;
    if ((flags & ~static_cast<uint32_t>(NFT_LOOKUP_F_INV)) != 0) return Unsupported("lookup flags");
    Emit(Match{field, (flags & NFT_LOOKUP_F_INV) != 0 ? Op::kNeq : Op::kEq,
               SetRef{nftnl_expr_get_str(lookup, NFTNL_EXPR_LOOKUP_SET)}});
    return true;
  }

  absl::Status DecodeCompare(Field field) {
    ASSIGN_OR_RETURN(const bool looked_up, TryLookup(field));
    if (looked_up) return absl::OkStatus();
    if (field == Field::kThDport) return DecodePort();
    if (field == Field::kMark && Peek("bitwise") != nullptr) return DecodeMaskedMark();
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    const uint32_t op = nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP);
    if (!Reg1(cmp, NFTNL_EXPR_CMP_SREG) || !IsEqOrNeq(op)) return Unsupported("a comparison");
    ASSIGN_OR_RETURN(Value value, ValueOf(field, Data(cmp, NFTNL_EXPR_CMP_DATA)));
    Emit(Match{field, OpOf(op), std::move(value)});
    return absl::OkStatus();
  }

  static absl::StatusOr<Value> ValueOf(Field field, const std::string& data) {
    switch (field) {
      case Field::kIifname:
      case Field::kOifname: {
        if (data.size() == 16) {
          const std::string name = data.substr(0, data.find('\0'));
          if (data.find_first_not_of('\0', name.size()) != std::string::npos) break;
          return Ifname{name};
        }
        if (data.empty() || data.find('\0') != std::string::npos) break;
        return Ifname{absl::StrCat(data, "*")};
      }
      case Field::kL4Proto: {
        uint8_t proto = 0;
        if (!As(data, proto)) break;
        return L4Proto{proto};
      }
      case Field::kMark: {
        uint32_t mark = 0;
        if (!As(data, mark)) break;
        return Mark{mark};
      }
      case Field::kFibDaddrType: {
        uint32_t type = 0;
        if (!As(data, type)) break;
        for (AddrType known :
             {AddrType::kUnicast, AddrType::kLocal, AddrType::kBroadcast, AddrType::kMulticast}) {
          if (static_cast<uint32_t>(known) == type) return known;
        }
        break;
      }
      default:
        break;
    }
    return Unsupported("a compared value");
  }

  static absl::StatusOr<uint16_t> PortOf(const std::string& data) {
    uint16_t port = 0;
    if (!As(data, port)) return Unsupported("a port");
    return ntohs(port);
  }

  absl::Status DecodePort() {
    if (const nftnl_expr* range = Peek("range")) {
      ++next_;
      if (!Reg1(range, NFTNL_EXPR_RANGE_SREG)) return Unsupported("a range");
      ASSIGN_OR_RETURN(const uint16_t first, PortOf(Data(range, NFTNL_EXPR_RANGE_FROM_DATA)));
      ASSIGN_OR_RETURN(const uint16_t last, PortOf(Data(range, NFTNL_EXPR_RANGE_TO_DATA)));
      const uint32_t op = nftnl_expr_get_u32(range, NFTNL_EXPR_RANGE_OP);
      Emit(
          Match{Field::kThDport, op == NFT_RANGE_NEQ ? Op::kNeq : Op::kEq, PortRange{first, last}});
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    const uint32_t op = nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP);
    ASSIGN_OR_RETURN(const uint16_t port, PortOf(Data(cmp, NFTNL_EXPR_CMP_DATA)));
    if (IsEqOrNeq(op)) {
      Emit(Match{Field::kThDport, OpOf(op), Port(port)});
      return absl::OkStatus();
    }
    // `dport first-last` is `>= first` then `<= last`.
    ASSIGN_OR_RETURN(const nftnl_expr* upper, Take("cmp"));
    ASSIGN_OR_RETURN(const uint16_t last, PortOf(Data(upper, NFTNL_EXPR_CMP_DATA)));
    if (op != NFT_CMP_GTE || nftnl_expr_get_u32(upper, NFTNL_EXPR_CMP_OP) != NFT_CMP_LTE) {
      return Unsupported("a port comparison");
    }
    Emit(Match{Field::kThDport, Op::kEq, PortRange{port, last}});
    return absl::OkStatus();
  }

  // Mask and xor of a `bitwise` on reg 1, if it is one.
  absl::StatusOr<std::pair<std::string, std::string>> TakeBitwise() {
    ASSIGN_OR_RETURN(const nftnl_expr* bitwise, Take("bitwise"));
    if (!Reg1(bitwise, NFTNL_EXPR_BITWISE_SREG) || !Reg1(bitwise, NFTNL_EXPR_BITWISE_DREG) ||
        (nftnl_expr_is_set(bitwise, NFTNL_EXPR_BITWISE_OP) &&
         nftnl_expr_get_u32(bitwise, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL)) {
      return Unsupported("a bitwise operation");
    }
    return std::make_pair(Data(bitwise, NFTNL_EXPR_BITWISE_MASK),
                          Data(bitwise, NFTNL_EXPR_BITWISE_XOR));
  }

  absl::Status DecodeMaskedMark() {
    ASSIGN_OR_RETURN(const auto mask_xor, TakeBitwise());
    uint32_t mask = 0, xor_bits = 0, value = 0;
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    const uint32_t op = nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP);
    if (!As(mask_xor.first, mask) || !As(mask_xor.second, xor_bits) || xor_bits != 0 ||
        !As(Data(cmp, NFTNL_EXPR_CMP_DATA), value) || !IsEqOrNeq(op)) {
      return Unsupported("a masked mark");
    }
    Emit(Match{Field::kMark, OpOf(op), MaskedMark{mask, value}});
    return absl::OkStatus();
  }

  // meta load mark, bitwise (& ~v) ^ v, meta set mark: `meta mark set meta mark | v`.
  absl::Status DecodeMarkOr() {
    ASSIGN_OR_RETURN(const auto mask_xor, TakeBitwise());
    uint32_t mask = 0, xor_bits = 0;
    if (!As(mask_xor.first, mask) || !As(mask_xor.second, xor_bits) || mask != ~xor_bits) {
      return Unsupported("a mark update");
    }
    RETURN_IF_ERROR(TakeMarkSet());
    Emit(SetMark{xor_bits, /*or_existing=*/true});
    return absl::OkStatus();
  }

  absl::Status TakeMarkSet() {
    ASSIGN_OR_RETURN(const nftnl_expr* set, Take("meta"));
    if (!Reg1(set, NFTNL_EXPR_META_SREG) ||
        nftnl_expr_get_u32(set, NFTNL_EXPR_META_KEY) != NFT_META_MARK) {
      return Unsupported("a meta set other than mark");
    }
    return absl::OkStatus();
  }

  absl::Status DecodeAddress(Field field, uint32_t length) {
    if (length == 4) {
      ASSIGN_OR_RETURN(const bool looked_up, TryLookup(field));
      if (looked_up) return absl::OkStatus();
    }
    uint32_t mask = length == 4 ? UINT32_MAX : ~(UINT32_MAX >> (8 * length));
    if (length == 4 && Peek("bitwise") != nullptr) {
      ASSIGN_OR_RETURN(const auto mask_xor, TakeBitwise());
      uint32_t net_mask = 0, xor_bits = 0;
      if (!As(mask_xor.first, net_mask) || !As(mask_xor.second, xor_bits) || xor_bits != 0) {
        return Unsupported("an address mask");
      }
      mask = ntohl(net_mask);
      if ((~mask & (~mask + 1)) != 0) return Unsupported("a non-prefix address mask");
    }
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    const uint32_t op = nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP);
    std::string bytes = Data(cmp, NFTNL_EXPR_CMP_DATA);
    if (!Reg1(cmp, NFTNL_EXPR_CMP_SREG) || !IsEqOrNeq(op) || bytes.size() != length) {
      return Unsupported("an address comparison");
    }
    bytes.resize(4, '\0');
    uint32_t address = 0;
    As(bytes, address);
    const int prefix = mask == 0 ? 0 : 32 - __builtin_ctz(mask);
    net::Cidr cidr(net::Ipv4(ntohl(address)), prefix);
    if (!cidr.IsNetwork()) return Unsupported("an address with bits outside its prefix");
    Emit(Match{field, OpOf(op), cidr});
    return absl::OkStatus();
  }

  absl::Status DecodeCtState() {
    if (Peek("bitwise") != nullptr) {
      ASSIGN_OR_RETURN(const auto mask_xor, TakeBitwise());
      ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
      uint32_t mask = 0, xor_bits = 0, zero = 1;
      if (!As(mask_xor.first, mask) || !As(mask_xor.second, xor_bits) || xor_bits != 0 ||
          nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP) != NFT_CMP_NEQ ||
          !As(Data(cmp, NFTNL_EXPR_CMP_DATA), zero) || zero != 0) {
        return Unsupported("a ct state test");
      }
      Emit(Match{Field::kCtState, Op::kEq, CtStates{mask}});
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(const nftnl_expr* cmp, Take("cmp"));
    uint32_t state = 0;
    if (nftnl_expr_get_u32(cmp, NFTNL_EXPR_CMP_OP) != NFT_CMP_NEQ ||
        !As(Data(cmp, NFTNL_EXPR_CMP_DATA), state)) {
      return Unsupported("a ct state comparison");
    }
    Emit(Match{Field::kCtState, Op::kNeq, CtStates{state}});
    return absl::OkStatus();
  }

  absl::Status DecodeLog(const nftnl_expr* e) {
    const auto zero_or_unset = [e](uint16_t attr) {
      return !nftnl_expr_is_set(e, attr) || nftnl_expr_get_u32(e, attr) == 0;
    };
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP) || nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) ||
        !zero_or_unset(NFTNL_EXPR_LOG_FLAGS) || !zero_or_unset(NFTNL_EXPR_LOG_SNAPLEN) ||
        nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD) != 0) {
      return Unsupported("a log statement other than NFLOG to a group");
    }
    const char* prefix = nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX)
                             ? nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX)
                             : "";
    Emit(Log{prefix, nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP)});
    return absl::OkStatus();
  }

  absl::Status DecodeMasquerade(const nftnl_expr* e) {
    const uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_FLAGS)
                               ? nftnl_expr_get_u32(e, NFTNL_EXPR_MASQ_FLAGS)
                               : 0;
    if ((flags & ~static_cast<uint32_t>(NF_NAT_RANGE_PROTO_RANDOM_FULLY)) != 0 ||
        nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN)) {
      return Unsupported("masquerade options");
    }
    Emit(Masquerade{flags != 0});
    return absl::OkStatus();
  }

  absl::Status DecodeImmediate(const nftnl_expr* e) {
    if (Reg1(e, NFTNL_EXPR_IMM_DREG)) {  // `meta mark set v` loads v first.
      uint32_t mark = 0;
      if (!As(Data(e, NFTNL_EXPR_IMM_DATA), mark)) return Unsupported("an immediate value");
      RETURN_IF_ERROR(TakeMarkSet());
      Emit(SetMark{mark, false});
      return absl::OkStatus();
    }
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT) ||
        nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT) {
      return Unsupported("an immediate");
    }
    const int32_t verdict = static_cast<int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
    switch (verdict) {
      case NF_ACCEPT:
        Emit(Accept());
        return absl::OkStatus();
      case NF_DROP:
        Emit(Drop());
        return absl::OkStatus();
      case NFT_RETURN:
        Emit(Return());
        return absl::OkStatus();
      case NFT_JUMP:
      case NFT_GOTO: {
        std::string chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
        Emit(verdict == NFT_JUMP ? Jump(std::move(chain)) : Goto(std::move(chain)));
        return absl::OkStatus();
      }
    }
    return Unsupported(absl::StrCat("verdict ", verdict));
  }

  std::vector<const nftnl_expr*> exprs_;
  size_t next_ = 0;
  bool pending_ipv4_check_ = false;
  std::vector<Statement> out_;
};

std::string CommentOf(const nftnl_rule& rule) {
  if (!nftnl_rule_is_set(&rule, NFTNL_RULE_USERDATA)) return {};
  uint32_t length = 0;
  const void* data = nftnl_rule_get_data(&rule, NFTNL_RULE_USERDATA, &length);
  std::string comment;
  nftnl_udata_parse(
      data, length,
      [](const nftnl_udata* attr, void* out) -> int {
        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && nftnl_udata_len(attr) > 0) {
          const char* text = static_cast<const char*>(nftnl_udata_get(attr));
          *static_cast<std::string*>(out) = std::string(text, strnlen(text, nftnl_udata_len(attr)));
        }
        return 0;
      },
      &comment);
  return comment;
}

// Appends the fewest CIDRs that cover [first, last].
void AppendCidrs(uint64_t first, uint64_t last, std::vector<Element>& out) {
  while (first <= last) {
    int bits = first == 0 ? 32 : __builtin_ctz(static_cast<uint32_t>(first));
    while (bits > 0 && first + (uint64_t{1} << bits) - 1 > last) --bits;
    out.emplace_back(std::in_place_type<net::Cidr>, net::Ipv4(static_cast<uint32_t>(first)),
                     32 - bits);
    first += uint64_t{1} << bits;
  }
}

// A key as a number, for ordering and interval arithmetic (addresses and ports only).
uint64_t KeyNumber(SetKeyType type, const std::string& key) {
  uint64_t number = 0;
  for (char byte : key) number = (number << 8) | static_cast<unsigned char>(byte);
  (void)type;
  return number;
}

absl::StatusOr<Element> SingleElement(SetKeyType type, const std::string& key) {
  switch (type) {
    case SetKeyType::kIpv4Addr:
      return net::Cidr(net::Ipv4(static_cast<uint32_t>(KeyNumber(type, key))), 32);
    case SetKeyType::kInetService:
      return Port(static_cast<uint16_t>(KeyNumber(type, key)));
    case SetKeyType::kInetProto:
      return L4Proto{static_cast<uint8_t>(key[0])};
    case SetKeyType::kMark: {
      uint32_t mark = 0;
      std::memcpy(&mark, key.data(), sizeof(mark));
      return Mark{mark};
    }
    case SetKeyType::kIfname: {
      const std::string name = key.substr(0, key.find('\0'));
      if (name.empty()) return absl::InvalidArgumentError("empty interface name in a set");
      return Ifname{name};
    }
    case SetKeyType::kIpv4AddrProtoService: {
      // Address, protocol and port, each in its own 4 bytes (see ElementKey).
      if (key.substr(5, 3) != std::string(3, '\0') || key.substr(10) != std::string(2, '\0')) {
        return absl::InvalidArgumentError("set element key with non-zero padding");
      }
      return AddrProtoPort{net::Ipv4(static_cast<uint32_t>(KeyNumber(type, key.substr(0, 4)))),
                           L4Proto{static_cast<uint8_t>(key[4])},
                           static_cast<uint16_t>(KeyNumber(type, key.substr(8, 2)))};
    }
  }
  return absl::InvalidArgumentError("unknown key type");
}

}  // namespace

Rule DecodeRule(const nftnl_rule& rule) {
  Rule out;
  out.handle = nftnl_rule_get_u64(&rule, NFTNL_RULE_HANDLE);
  out.comment = CommentOf(rule);
  absl::StatusOr<std::vector<Statement>> statements = RuleDecoder(rule).Decode();
  if (!statements.ok()) {
    out.undecoded = RuleText(rule);
    return out;
  }
  out.statements = *std::move(statements);
  Rule normalized = Normalize(std::move(out));
  return normalized;
}

absl::StatusOr<std::vector<Element>> DecodeElements(SetKeyType key_type, bool interval,
                                                    std::vector<RawElement> raw) {
  const size_t key_length = KeyLength(key_type);
  for (const RawElement& element : raw) {
    if (element.key.size() != key_length) {
      return absl::InvalidArgumentError(absl::StrCat("set element key of ", element.key.size(),
                                                     " bytes in a set of ",
                                                     SetKeyTypeName(key_type)));
    }
  }
  std::vector<Element> out;
  if (!interval) {
    for (const RawElement& element : raw) {
      ASSIGN_OR_RETURN(Element decoded, SingleElement(key_type, element.key));
      out.push_back(std::move(decoded));
    }
    // A dump that spans several messages can repeat an element (see LinuxBackend::Dump).
    return SortedElements(std::move(out));
  }
  if (key_type != SetKeyType::kIpv4Addr && key_type != SetKeyType::kInetService) {
    return absl::InvalidArgumentError(
        absl::StrCat("interval set of ", SetKeyTypeName(key_type), " is not supported"));
  }
  // Ascending keys; at equal keys the end of one interval comes before the start of the next.
  std::sort(raw.begin(), raw.end(), [key_type](const RawElement& a, const RawElement& b) {
    const uint64_t ka = KeyNumber(key_type, a.key), kb = KeyNumber(key_type, b.key);
    if (ka != kb) return ka < kb;
    return a.interval_end && !b.interval_end;
  });
  raw.erase(std::unique(raw.begin(), raw.end(),
                        [](const RawElement& a, const RawElement& b) {
                          return a.key == b.key && a.interval_end == b.interval_end;
                        }),
            raw.end());
  const uint64_t max_key = (uint64_t{1} << (8 * key_length)) - 1;
  std::optional<uint64_t> open;
  const auto close = [&](uint64_t last) {
    if (key_type == SetKeyType::kIpv4Addr) {
      AppendCidrs(*open, last, out);
    } else {
      out.emplace_back(std::in_place_type<PortRange>,
                       PortRange{static_cast<uint16_t>(*open), static_cast<uint16_t>(last)});
    }
    open.reset();
  };
  for (const RawElement& element : raw) {
    const uint64_t key = KeyNumber(key_type, element.key);
    if (element.interval_end) {
      if (open.has_value() && key > *open) close(key - 1);
      continue;
    }
    if (open.has_value()) close(key - 1);  // Only an open-ended interval lacks its end.
    open = key;
  }
  if (open.has_value()) close(max_key);
  return out;
}

}  // namespace weave::nft
