#include "router/overlay/fastdp.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace weave::overlay {
namespace {

constexpr char kMagic[4] = {'W', 'V', 'H', 'B'};
constexpr uint8_t kVersion = 1;
// Ethernet header, magic, version, sender, seq, frame length.
constexpr size_t kHeaderSize = 14 + 4 + 1 + 6 + 8 + 2;
constexpr size_t kMinFrame = 60;

void PutMac(uint8_t* out, const netlink::MacAddress& mac) { std::memcpy(out, mac.data(), 6); }

void PutBigEndian(uint8_t* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[i] = value & 0xff;
}

uint64_t GetBigEndian(const uint8_t* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | in[i];
  return value;
}

absl::Status Errno(absl::string_view what) { return absl::ErrnoToStatus(errno, what); }

}  // namespace

netlink::MacAddress NameMac(PeerName name) {
  netlink::MacAddress mac;
  for (int i = 0; i < 6; ++i) mac[i] = (name.value() >> (8 * (5 - i))) & 0xff;
  return mac;
}

netlink::MacAddress HeartbeatMac(PeerName name) {
  netlink::MacAddress mac = NameMac(name);
  mac[0] = (mac[0] | 0x02) & ~0x01;  // locally administered unicast
  mac[1] ^= 0xa5;                    // never the peer's own (bridge) address
  return mac;
}

std::string EncodeFastdpHeartbeat(uint32_t vni, PeerName sender, PeerName receiver, uint64_t seq,
                                  size_t frame_size) {
  frame_size = std::max(frame_size, kMinFrame);
  std::string out(8 + frame_size, '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = 0x08;  // VXLAN flags: the VNI is valid
  PutBigEndian(p + 4, vni, 3);
  uint8_t* frame = p + 8;
  PutMac(frame, NameMac(receiver));
  PutMac(frame + 6, HeartbeatMac(sender));
  PutBigEndian(frame + 12, kHeartbeatEthertype, 2);
  std::memcpy(frame + 14, kMagic, 4);
  frame[18] = kVersion;
  PutBigEndian(frame + 19, sender.value(), 6);
  PutBigEndian(frame + 25, seq, 8);
  PutBigEndian(frame + 33, frame_size, 2);
  return out;
}

absl::StatusOr<FastdpHeartbeat> DecodeFastdpHeartbeatFrame(absl::Span<const uint8_t> frame) {
  if (frame.size() < kHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("fastdp heartbeat: ", frame.size(), " bytes is too short"));
  }
  const uint8_t* p = frame.data();
  if (GetBigEndian(p + 12, 2) != kHeartbeatEthertype || std::memcmp(p + 14, kMagic, 4) != 0) {
    return absl::InvalidArgumentError("fastdp heartbeat: not a heartbeat frame");
  }
  if (p[18] != kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("fastdp heartbeat: unknown version ", p[18]));
  }
  const uint64_t claimed = GetBigEndian(p + 33, 2);
  if (claimed != frame.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fastdp heartbeat: ", frame.size(), " bytes arrived of ", claimed, " sent"));
  }
  return FastdpHeartbeat{PeerName(GetBigEndian(p + 19, 6)), GetBigEndian(p + 25, 8)};
}

absl::StatusOr<std::unique_ptr<FastdpHeartbeats>> FastdpHeartbeats::Start(
    PeerName self, uint32_t vni, uint16_t vxlan_port, int vxlan_ifindex, size_t frame_size,
    Handler handler) {
  mesh::Fd sender(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sender.get() < 0) return Errno("opening the fastdp heartbeat socket");
  // DF: a heartbeat that does not fit the path must fail, as VXLAN traffic would.
  int pmtu = IP_PMTUDISC_DO;
  if (setsockopt(sender.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) != 0) {
    return Errno("setting DF on the fastdp heartbeat socket");
  }
  // The VXLAN device is a bridge port, and the bridge takes its frames before any handler bound
  // to one ethertype would see them; only "all protocols" taps come first. A socket filter
  // keeps everything but heartbeats in the kernel. Protocol 0 until the filter is on, so that
  // no pod frame is queued before.
  // SOCK_RAW: the frame with its Ethernet header, which the decoder checks.
  mesh::Fd receiver(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (receiver.get() < 0) return Errno("opening the fastdp heartbeat packet socket");
  sock_filter code[] = {
      {0x28, 0, 0, 12},                   // ldh [12]: the ethertype
      {0x15, 0, 1, kHeartbeatEthertype},  // jeq heartbeat ? next : drop
      {0x06, 0, 0, 0xffff},               // ret 65535: keep
      {0x06, 0, 0, 0},                    // ret 0: drop
  };
  sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
  if (setsockopt(receiver.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) != 0) {
    return Errno("filtering the fastdp heartbeat packet socket");
  }
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_ALL);
  bind_to.sll_ifindex = vxlan_ifindex;
  if (bind(receiver.get(), reinterpret_cast<sockaddr*>(&bind_to), sizeof(bind_to)) != 0) {
    return Errno(absl::StrCat("binding the heartbeat packet socket to link ", vxlan_ifindex));
  }
  mesh::Fd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) return Errno("eventfd");
  std::unique_ptr<FastdpHeartbeats> heartbeats(
      new FastdpHeartbeats(self, vni, vxlan_port, frame_size, std::move(sender),
                           std::move(receiver), std::move(wake), std::move(handler)));
  heartbeats->thread_ = std::thread([raw = heartbeats.get()] { raw->ReceiveLoop(); });
  return heartbeats;
}

FastdpHeartbeats::FastdpHeartbeats(PeerName self, uint32_t vni, uint16_t vxlan_port,
                                   size_t frame_size, mesh::Fd sender, mesh::Fd receiver,
                                   mesh::Fd wake, Handler handler)
    : self_(self),
      vni_(vni),
      vxlan_port_(vxlan_port),
      frame_size_(frame_size),
      sender_(std::move(sender)),
      receiver_(std::move(receiver)),
      wake_(std::move(wake)),
      handler_(std::move(handler)) {}

FastdpHeartbeats::~FastdpHeartbeats() { Stop(); }

void FastdpHeartbeats::Stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  thread_.join();
}

absl::Status FastdpHeartbeats::Send(PeerName to, net::Ipv4 ip, uint64_t seq) {
  const std::string payload = EncodeFastdpHeartbeat(vni_, self_, to, seq, frame_size_);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(vxlan_port_);
  address.sin_addr.s_addr = htonl(ip.value());
  if (sendto(sender_.get(), payload.data(), payload.size(), 0,
             reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
    if (errno == EMSGSIZE) {
      return absl::FailedPreconditionError(
          absl::StrCat("the path to ", ip.ToString(), " does not carry ", payload.size() + 28,
                       "-byte packets unfragmented (lower the pods' MTU)"));
    }
    return Errno(absl::StrCat("sending a fastdp heartbeat to ", ip.ToString()));
  }
  return absl::OkStatus();
}

void FastdpHeartbeats::ReceiveLoop() {
  std::vector<uint8_t> buffer(65536);
  pollfd fds[2] = {{receiver_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("fastdp heartbeats: poll: {}", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    sockaddr_ll from{};
    socklen_t from_size = sizeof(from);
    ssize_t n = recvfrom(receiver_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&from), &from_size);
    if (n < 0) continue;
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    absl::StatusOr<FastdpHeartbeat> heartbeat =
        DecodeFastdpHeartbeatFrame(absl::MakeConstSpan(buffer.data(), static_cast<size_t>(n)));
    if (!heartbeat.ok()) {
      if (rejected_.fetch_add(1) % 1000 == 0) {
        spdlog::warn("Dropped a frame on the VXLAN device: {}", std::string(heartbeat.status().message()));
      }
      continue;
    }
    received_.fetch_add(1);
    handler_(*heartbeat);
  }
}

}  // namespace weave::overlay
