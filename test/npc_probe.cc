// npc-probe: the traffic of the NetworkPolicy conformance cases on real pods
// (npc_conformance_netns_test.cc), run inside a pod's network namespace.
//
//   npc-probe serve --tcp 80,81 --udp 80,81
//       Listens on every port given (0.0.0.0), accepts and closes TCP connections, echoes UDP
//       datagrams; prints "serving" once every socket is bound, then runs until killed.
//   npc-probe connect --proto tcp|udp --port N --timeout-ms M ADDR...
//       Tries every address at once and prints one character per address, in order, then a
//       newline: "." connected (TCP) or echoed (UDP), "X" no answer within the timeout (what a
//       dropped packet looks like), "R" refused (an RST or an ICMP port unreachable), "E" any
//       other error. An address that does not answer is tried once more (the first packet may
//       wait for ARP); an answer is never tried again.
//
// Plain POSIX and one thread: the probes of one source are concurrent through poll(2).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "npc-probe: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: npc-probe serve [--tcp P,P...] [--udp P,P...]\n"
               "       npc-probe connect --proto tcp|udp --port N [--timeout-ms M] ADDR...\n");
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

int Serve(const std::vector<uint16_t>& tcp, const std::vector<uint16_t>& udp) {
  std::vector<pollfd> fds;
  std::vector<bool> is_tcp;
  for (uint16_t port : tcp) {
    fds.push_back({Bound(SOCK_STREAM, port), POLLIN, 0});
    is_tcp.push_back(true);
  }
  for (uint16_t port : udp) {
    fds.push_back({Bound(SOCK_DGRAM, port), POLLIN, 0});
    is_tcp.push_back(false);
  }
  std::printf("serving\n");
  std::fflush(stdout);
  while (true) {
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      Die("poll");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      if (is_tcp[i]) {
        // The handshake is what a probe judges; the connection has nothing more to say.
        const int conn = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn >= 0) close(conn);
        continue;
      }
      char buffer[512];
      sockaddr_in from{};
      socklen_t from_len = sizeof(from);
      const ssize_t n = recvfrom(fds[i].fd, buffer, sizeof(buffer), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n >= 0) {
        sendto(fds[i].fd, buffer, n, 0, reinterpret_cast<sockaddr*>(&from), from_len);
      }
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage();
  const std::string command = argv[1];
  std::vector<uint16_t> tcp_ports, udp_ports;
  std::string proto;
  int port = 0;
  int timeout_ms = 700;
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
  if (command == "serve") return Serve(tcp_ports, udp_ports);
  if (command == "connect") {
    if ((proto != "tcp" && proto != "udp") || port <= 0 || port > 65535 || timeout_ms <= 0) {
      Usage();
    }
    return Connect(proto == "tcp", static_cast<uint16_t>(port), timeout_ms, addresses);
  }
  Usage();
}
