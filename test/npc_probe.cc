// npc-probe: the traffic of the NetworkPolicy kernel tests (npc_conformance_netns_test.cc,
// npc_kernel_netns_test.cc) on real pods, run inside a pod's network namespace.
//
//   npc-probe serve [--tcp 80,81] [--udp 80,81] [--echo-tcp 8080]
//       Listens on every port given (0.0.0.0): accepts and closes TCP connections on --tcp ports,
//       echoes UDP datagrams, and keeps TCP connections on --echo-tcp ports open, echoing what
//       they send; prints "serving" once every socket is bound, then runs until killed.
//   npc-probe connect --proto tcp|udp --port N --timeout-ms M ADDR...
//       Tries every address at once and prints one character per address, in order, then a
//       newline: "." connected (TCP) or echoed (UDP), "X" no answer within the timeout (what a
//       dropped packet looks like), "R" refused (an RST or an ICMP port unreachable), "E" any
//       other error. An address that does not answer is tried once more (the first packet may
//       wait for ARP); an answer is never tried again.
//   npc-probe repeat --port N --interval-ms I --timeout-ms M ADDR
//       Connections under load: prints "repeating", then makes a fresh TCP connection to ADDR
//       every I ms (one at a time, each given M ms and never retried) and prints its character
//       as connect does, unbuffered, without newlines; stops on SIGTERM or SIGINT, printing a
//       newline. Keep M under a second to see a single dropped SYN (its first retransmission
//       comes after one).
//   npc-probe stream --port N --interval-ms I --timeout-ms M ADDR
//       One long-lived TCP connection to an --echo-tcp server: prints "connected" (or "X", "R",
//       "E" and exits 1 when it cannot connect within M ms), then every I ms sends a message and
//       prints "." once its echo is back. A message whose echo does not come is not resent (TCP
//       retransmits it), so the dots stop while the connection's packets are dropped; a
//       connection error prints "E" and exits 1.
//   npc-probe mcast-listen --group G --port N
//       Joins multicast group G, prints "listening", then one line per datagram received on port
//       N: "got <payload>".
//   npc-probe send --port N --count K --interval-ms I --payload P ADDR
//       Sends K UDP datagrams "P <i>" to ADDR (unicast or multicast) I ms apart, then exits.
//
// Plain POSIX and one thread: the probes of one source are concurrent through poll(2).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "npc-probe: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: npc-probe serve [--tcp P,P...] [--udp P,P...] [--echo-tcp P,P...]\n"
               "       npc-probe connect --proto tcp|udp --port N [--timeout-ms M] ADDR...\n"
               "       npc-probe repeat --port N --interval-ms I --timeout-ms M ADDR\n"
               "       npc-probe stream --port N --interval-ms I --timeout-ms M ADDR\n"
               "       npc-probe mcast-listen --group G --port N\n"
               "       npc-probe send --port N --count K --interval-ms I --payload P ADDR\n");
  std::exit(2);
}

std::vector<uint16_t> ParsePorts(const std::string& list) {
  std::vector<uint16_t> out;
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const int port = std::atoi(list.substr(start, end - start).c_str());
    if (port <= 0 || port > 65535) Usage();
    out.push_back(static_cast<uint16_t>(port));
    start = end + 1;
  }
  return out;
}

sockaddr_in Address(const std::string& ip, uint16_t port) {
  sockaddr_in out{};
  out.sin_family = AF_INET;
  out.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &out.sin_addr) != 1) {
    std::fprintf(stderr, "npc-probe: not an IPv4 address: %s\n", ip.c_str());
    std::exit(2);
  }
  return out;
}

int Bound(int type, uint16_t port) {
  const int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) Die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in any = Address("0.0.0.0", port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) < 0) {
    Die("bind " + std::to_string(port));
  }
  if (type == SOCK_STREAM && listen(fd, 128) < 0) Die("listen");
  return fd;
}

enum class Socket { kListen, kUdp, kEchoListen, kEchoConnection };

int Serve(const std::vector<uint16_t>& tcp, const std::vector<uint16_t>& udp,
          const std::vector<uint16_t>& echo_tcp) {
  std::vector<pollfd> fds;
  std::vector<Socket> kinds;
  const auto add = [&](int fd, Socket kind) {
    fds.push_back({fd, POLLIN, 0});
    kinds.push_back(kind);
  };
  for (uint16_t port : tcp) add(Bound(SOCK_STREAM, port), Socket::kListen);
  for (uint16_t port : udp) add(Bound(SOCK_DGRAM, port), Socket::kUdp);
  for (uint16_t port : echo_tcp) add(Bound(SOCK_STREAM, port), Socket::kEchoListen);
  std::printf("serving\n");
  std::fflush(stdout);
  while (true) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    const size_t polled = fds.size();  // connections accepted now are polled next round
    for (size_t i = 0; i < polled; ++i) {
      if (fds[i].revents == 0) continue;
      char buffer[512];
      switch (kinds[i]) {
        case Socket::kListen: {
          // The handshake is what a probe judges; the connection has nothing more to say.
          const int conn = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (conn >= 0) close(conn);
          break;
        }
        case Socket::kEchoListen: {
          const int conn = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (conn >= 0) add(conn, Socket::kEchoConnection);
          break;
        }
        case Socket::kEchoConnection: {
          const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
          if (n > 0 && write(fds[i].fd, buffer, n) == n) break;
          close(fds[i].fd);
          fds[i].fd = -1;  // removed below
          break;
        }
        case Socket::kUdp: {
          sockaddr_in from{};
          socklen_t from_len = sizeof(from);
          const ssize_t n = recvfrom(fds[i].fd, buffer, sizeof(buffer), 0,
                                     reinterpret_cast<sockaddr*>(&from), &from_len);
          if (n >= 0) {
            sendto(fds[i].fd, buffer, n, 0, reinterpret_cast<sockaddr*>(&from), from_len);
          }
          break;
        }
      }
    }
    for (size_t i = fds.size(); i-- > 0;) {
      if (fds[i].fd >= 0) continue;
      fds.erase(fds.begin() + i);
      kinds.erase(kinds.begin() + i);
    }
  }
}

// One attempt on every address still marked 'X' in `results`, concurrently, within `timeout`.
void Attempt(bool tcp, uint16_t port, const std::vector<std::string>& addresses,
             std::chrono::milliseconds timeout, std::string& results) {
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  for (size_t i = 0; i < addresses.size(); ++i) {
    if (results[i] != 'X') continue;
    const int fd =
        socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) Die("socket");
    sockaddr_in to = Address(addresses[i], port);
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    if (rc < 0 && errno != EINPROGRESS) {
      results[i] = errno == ECONNREFUSED ? 'R' : 'E';
      close(fd);
      continue;
    }
    if (!tcp) {
      const std::string token = "npc-probe " + addresses[i];
      if (send(fd, token.data(), token.size(), 0) < 0) {
        results[i] = errno == ECONNREFUSED ? 'R' : 'E';
        close(fd);
        continue;
      }
    }
    fds.push_back({fd, static_cast<short>(tcp ? POLLOUT : POLLIN), 0});
    index.push_back(i);
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  size_t pending = fds.size();
  while (pending > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    const int ready = poll(fds.data(), fds.size(), static_cast<int>(left));
    if (ready < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      const size_t i = index[k];
      if (tcp) {
        int error = 0;
        socklen_t len = sizeof(error);
        getsockopt(fds[k].fd, SOL_SOCKET, SO_ERROR, &error, &len);
        results[i] = error == 0 ? '.' : error == ECONNREFUSED ? 'R' : 'E';
      } else {
        char buffer[512];
        const ssize_t n = recv(fds[k].fd, buffer, sizeof(buffer), 0);
        const std::string token = "npc-probe " + addresses[i];
        if (n >= 0) {
          results[i] = std::string(buffer, n) == token ? '.' : 'E';
        } else {
          results[i] = errno == ECONNREFUSED ? 'R' : 'E';
        }
      }
      close(fds[k].fd);
      fds[k].fd = -1;  // poll ignores it from now on
      --pending;
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
}

int Connect(bool tcp, uint16_t port, int timeout_ms, const std::vector<std::string>& addresses) {
  std::string results(addresses.size(), 'X');
  for (int attempt = 0; attempt < 2; ++attempt) {
    Attempt(tcp, port, addresses, std::chrono::milliseconds(timeout_ms), results);
  }
  std::printf("%s\n", results.c_str());
  return 0;
}

volatile sig_atomic_t stopping = 0;

void OnStopSignal(int) { stopping = 1; }

void StopOnSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;  // no SA_RESTART: a blocked poll or sleep returns
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

void Print(const char* text) {
  std::fputs(text, stdout);
  std::fflush(stdout);
}

// Starts a non-blocking TCP connection and waits up to `timeout` for it: '.', 'X', 'R' or 'E'
// as Attempt judges it. On '.', *connected (if given) receives the socket; otherwise it is closed.
char ConnectTcp(const std::string& address, uint16_t port, std::chrono::milliseconds timeout,
                int* connected = nullptr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) Die("socket");
  sockaddr_in to = Address(address, port);
  char result = 'X';
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0 && errno != EINPROGRESS) {
    result = errno == ECONNREFUSED ? 'R' : 'E';
  } else {
    pollfd pfd{fd, POLLOUT, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (ready > 0) {
      int error = 0;
      socklen_t len = sizeof(error);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      result = error == 0 ? '.' : error == ECONNREFUSED ? 'R' : 'E';
    } else if (ready < 0 && errno != EINTR) {
      result = 'E';
    }
  }
  if (result == '.' && connected != nullptr) {
    *connected = fd;
  } else {
    close(fd);
  }
  return result;
}

int Repeat(uint16_t port, int interval_ms, int timeout_ms, const std::string& address) {
  StopOnSignals();
  Print("repeating\n");
  while (!stopping) {
    const Clock::time_point next = Clock::now() + std::chrono::milliseconds(interval_ms);
    const char result = ConnectTcp(address, port, std::chrono::milliseconds(timeout_ms));
    // A signal that cut the wait short is no verdict on the connection.
    if (stopping && result == 'X') break;
    const char text[2] = {result, '\0'};
    Print(text);
    std::this_thread::sleep_until(next);
  }
  Print("\n");
  return 0;
}

int Stream(uint16_t port, int interval_ms, int timeout_ms, const std::string& address) {
  int fd = -1;
  const char result = ConnectTcp(address, port, std::chrono::milliseconds(timeout_ms), &fd);
  if (result != '.') {
    std::printf("%c\n", result);
    return 1;
  }
  // Blocking from here on: a message waits for its echo as long as TCP keeps trying.
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  Print("connected\n");
  for (uint64_t sequence = 0;; ++sequence) {
    char message[17];
    std::snprintf(message, sizeof(message), "%016llx", static_cast<unsigned long long>(sequence));
    if (write(fd, message, 16) != 16) break;
    char echo[16];
    size_t got = 0;
    while (got < sizeof(echo)) {
      const ssize_t n = read(fd, echo + got, sizeof(echo) - got);
      if (n <= 0) {
        Print("E\n");
        return 1;
      }
      got += n;
    }
    if (std::memcmp(echo, message, 16) != 0) break;
    Print(".");
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  Print("E\n");
  return 1;
}

int McastListen(const std::string& group, uint16_t port) {
  const int fd = Bound(SOCK_DGRAM, port);
  ip_mreqn membership{};
  membership.imr_multiaddr = Address(group, port).sin_addr;
  membership.imr_address.s_addr = htonl(INADDR_ANY);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &membership, sizeof(membership)) < 0) {
    Die("joining " + group);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  Print("listening\n");
  while (true) {
    char buffer[512];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      Die("recv");
    }
    std::printf("got %.*s\n", static_cast<int>(n), buffer);
    std::fflush(stdout);
  }
}

int Send(uint16_t port, int count, int interval_ms, const std::string& payload,
         const std::string& address) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  sockaddr_in to = Address(address, port);
  for (int i = 0; i < count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    const std::string datagram = payload + " " + std::to_string(i);
    if (sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
      Die("sendto " + address);
    }
  }
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage();
  const std::string command = argv[1];
  std::vector<uint16_t> tcp_ports, udp_ports, echo_tcp_ports;
  std::string proto, group, payload = "npc-probe";
  int port = 0;
  int timeout_ms = 700;
  int interval_ms = 0;
  int count = 1;
  std::vector<std::string> addresses;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (arg == "--tcp") {
      tcp_ports = ParsePorts(value());
    } else if (arg == "--udp") {
      udp_ports = ParsePorts(value());
    } else if (arg == "--echo-tcp") {
      echo_tcp_ports = ParsePorts(value());
    } else if (arg == "--interval-ms") {
      interval_ms = std::atoi(value().c_str());
    } else if (arg == "--count") {
      count = std::atoi(value().c_str());
    } else if (arg == "--group") {
      group = value();
    } else if (arg == "--payload") {
      payload = value();
    } else if (arg == "--proto") {
      proto = value();
    } else if (arg == "--port") {
      port = std::atoi(value().c_str());
    } else if (arg == "--timeout-ms") {
      timeout_ms = std::atoi(value().c_str());
    } else if (arg.starts_with("--")) {
      Usage();
    } else {
      addresses.push_back(arg);
    }
  }
  if (command == "serve") return Serve(tcp_ports, udp_ports, echo_tcp_ports);
  if (port <= 0 || port > 65535 || timeout_ms <= 0 || interval_ms < 0) Usage();
  const uint16_t to_port = static_cast<uint16_t>(port);
  if (command == "connect") {
    if (proto != "tcp" && proto != "udp") Usage();
    return Connect(proto == "tcp", to_port, timeout_ms, addresses);
  }
  if (command == "mcast-listen") {
    if (group.empty()) Usage();
    return McastListen(group, to_port);
  }
  if (addresses.size() != 1) Usage();
  if (command == "repeat") return Repeat(to_port, interval_ms, timeout_ms, addresses[0]);
  if (command == "stream") return Stream(to_port, interval_ms, timeout_ms, addresses[0]);
  if (command == "send") {
    if (count < 1) Usage();
    return Send(to_port, count, interval_ms, payload, addresses[0]);
  }
  Usage();
}
