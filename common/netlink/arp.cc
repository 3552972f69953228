#include "common/netlink/arp.h"

#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

constexpr MacAddress kBroadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

uint8_t* PutU16(uint8_t* out, uint16_t value) {
  out[0] = static_cast<uint8_t>(value >> 8);
  out[1] = static_cast<uint8_t>(value);
  return out + 2;
}

uint8_t* PutIpv4(uint8_t* out, net::Ipv4 ip) {
  out = PutU16(out, static_cast<uint16_t>(ip.value() >> 16));
  return PutU16(out, static_cast<uint16_t>(ip.value()));
}

uint8_t* PutMac(uint8_t* out, const MacAddress& mac) {
  std::memcpy(out, mac.data(), mac.size());
  return out + mac.size();
}

// Broadcasts the gratuitous ARP on `ifname` through a new AF_PACKET socket of the calling
// thread's namespace. `*fd` is that socket (or -1), left for the caller to close, even after an
// error: closing it is slow (see ArpAnnouncer).
absl::Status Send(absl::string_view ifname, net::Ipv4 ip, const MacAddress& mac, int* fd) {
  *fd = -1;
  const std::string what =
      absl::StrCat("sending gratuitous ARP for ", ip.ToString(), " on ", ifname);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(ifname), what));
  // Protocol 0: a send-only socket, which no incoming frame is queued on.
  *fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (*fd < 0) return ErrnoStatus(errno, what);

  ifreq request{};
  std::memcpy(request.ifr_name, ifname.data(), ifname.size());
  if (ioctl(*fd, SIOCGIFINDEX, &request) < 0) return ErrnoStatus(errno, what);

  sockaddr_ll destination{};
  destination.sll_family = AF_PACKET;
  destination.sll_protocol = htons(ETH_P_ARP);
  destination.sll_ifindex = request.ifr_ifindex;
  destination.sll_halen = ETH_ALEN;
  std::memcpy(destination.sll_addr, kBroadcast.data(), kBroadcast.size());

  const std::array<uint8_t, 28> packet = EncodeGratuitousArp(ip, mac);
  if (sendto(*fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&destination),
             sizeof(destination)) < 0) {
    return ErrnoStatus(errno, what);
  }
  return absl::OkStatus();
}

}  // namespace

std::array<uint8_t, 28> EncodeGratuitousArp(net::Ipv4 ip, const MacAddress& mac) {
  std::array<uint8_t, 28> packet{};
  uint8_t* out = PutU16(packet.data(), ARPHRD_ETHER);
  out = PutU16(out, ETH_P_IP);
  *out++ = ETH_ALEN;
  *out++ = 4;  // IPv4 address length
  out = PutU16(out, ARPOP_REQUEST);
  out = PutMac(out, mac);
  out = PutIpv4(out, ip);
  out = PutMac(out, kBroadcast);
  PutIpv4(out, ip);
  return packet;
}

absl::Status SendGratuitousArp(absl::string_view ifname, net::Ipv4 ip, const MacAddress& mac) {
  int fd = -1;
  absl::Status sent = Send(ifname, ip, mac, &fd);
  if (fd >= 0) close(fd);
  return sent;
}

// Owned by its thread, which outlives the Announce call that started it.
struct ArpAnnouncer::Job {
  ArpAnnouncer* announcer;
  int netns_fd;  // valid until `sent` is set: Announce holds the NetnsFd until then
  std::string netns_path;
  std::string ifname;
  net::Ipv4 ip;
  MacAddress mac;
  std::promise<absl::Status> sent;
};

ArpAnnouncer::~ArpAnnouncer() {
  std::unique_lock lock(mu_);
  finished_.wait(lock, [this] { return running_ == 0; });
}

void ArpAnnouncer::Started() {
  std::lock_guard lock(mu_);
  running_++;
}

void ArpAnnouncer::Finished() {
  // Notified under the lock: once the destructor sees zero, this thread touches nothing more.
  std::lock_guard lock(mu_);
  if (--running_ == 0) finished_.notify_all();
}

absl::Status ArpAnnouncer::Announce(const NetnsFd& netns, absl::string_view ifname, net::Ipv4 ip,
                                    const MacAddress& mac) {
  auto job =
      std::make_unique<Job>(Job{this, netns.fd(), netns.path(), std::string(ifname), ip, mac, {}});
  std::future<absl::Status> sent = job->sent.get_future();
  Started();
  // pthread rather than std::thread: failing to start a thread is an error to report, not an
  // exception.
  pthread_t thread;
  Job* const owned_by_thread = job.release();
  if (const int error = pthread_create(&thread, nullptr, &ArpAnnouncer::Run, owned_by_thread);
      error != 0) {
    delete owned_by_thread;
    Finished();
    return ErrnoStatus(error,
                       absl::StrCat("starting a thread for network namespace ", netns.path()));
  }
  pthread_detach(thread);
  return sent.get();
}

void* ArpAnnouncer::Run(void* arg) {
  std::unique_ptr<Job> job(static_cast<Job*>(arg));
  int fd = -1;
  absl::Status status =
      setns(job->netns_fd, CLONE_NEWNET) < 0
          ? ErrnoStatus(errno, absl::StrCat("entering network namespace ", job->netns_path))
          : Send(job->ifname, job->ip, job->mac, &fd);
  job->sent.set_value(std::move(status));
  if (fd >= 0) close(fd);  // an RCU grace period, which the caller no longer waits for
  ArpAnnouncer* announcer = job->announcer;
  job.reset();
  announcer->Finished();
  return nullptr;
}

}  // namespace weave::netlink
