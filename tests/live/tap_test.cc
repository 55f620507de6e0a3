// The TAP behind bridge(), inside a network namespace this test creates.
//
// The kernel side of the TAP gets 10.99.0.1/24; "pod" 10.99.0.2 lives in
// this test, behind bridge(): it answers the kernel's ARP request and its UDP
// datagram, and the kernel's socket receives the answer. Needs root; skips
// otherwise. Traffic never leaves the namespace.
#include "real-backend/tap.h"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "real-backend/linux_host.h"
#include "real-backend/socket_util.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kPatience;
using testing::make_loop;

using Mac = std::array<uint8_t, 6>;

constexpr Ipv4 kKernelAddr = Ipv4::from_octets(10, 99, 0, 1);
constexpr Ipv4 kPodAddr = Ipv4::from_octets(10, 99, 0, 2);
constexpr Mac kPodMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr uint16_t kPodPort = 27200;

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

// A network namespace for the test's lifetime, removed even when an
// assertion fails (everything inside it, the TAP included, goes with it).
class NetnsGuard {
 public:
  NetnsGuard() : name_("loomtest-" + std::to_string(::getpid())) {
    run("ip netns del " + name_ + " 2>/dev/null");  // a crashed earlier run
    ok_ = run("ip netns add " + name_);
  }
  ~NetnsGuard() {
    if (ok_) run("ip netns del " + name_);
  }
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

void put16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}
void put_mac(Bytes& out, const Mac& mac) { out.insert(out.end(), mac.begin(), mac.end()); }
uint16_t get16(ByteView b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t get32(ByteView b, size_t at) { return uint32_t{get16(b, at)} << 16 | get16(b, at + 2); }
Mac get_mac(ByteView b, size_t at) {
  Mac mac;
  for (size_t i = 0; i < 6; ++i) mac[i] = b[at + i];
  return mac;
}

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type) {
  Bytes out;
  put_mac(out, dst);
  put_mac(out, src);
  put16(out, type);
  return out;
}

Bytes arp_reply(const Mac& to_mac, Ipv4 to_ip) {
  Bytes f = ethernet(to_mac, kPodMac, 0x0806);
  put16(f, 1);       // Ethernet
  put16(f, 0x0800);  // IPv4
  f.push_back(6);
  f.push_back(4);
  put16(f, 2);  // reply
  put_mac(f, kPodMac);
  put32(f, kPodAddr.value);
  put_mac(f, to_mac);
  put32(f, to_ip.value);
  return f;
}

Bytes udp_frame(const Mac& to_mac, Ipv4 to_ip, uint16_t to_port, std::string_view payload) {
  Bytes f = ethernet(to_mac, kPodMac, 0x0800);
  const size_t ip_at = f.size();
  f.push_back(0x45);
  f.push_back(0);
  put16(f, static_cast<uint16_t>(20 + 8 + payload.size()));
  put16(f, 1);       // id
  put16(f, 0x4000);  // don't fragment
  f.push_back(64);   // ttl
  f.push_back(17);   // UDP
  put16(f, 0);       // checksum, below
  put32(f, kPodAddr.value);
  put32(f, to_ip.value);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += get16(f, ip_at + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[ip_at + 10] = static_cast<uint8_t>(~sum >> 8);
  f[ip_at + 11] = static_cast<uint8_t>(~sum);
  put16(f, kPodPort);
  put16(f, to_port);
  put16(f, static_cast<uint16_t>(8 + payload.size()));
  put16(f, 0);  // no UDP checksum (allowed over IPv4)
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

struct SeenArp {
  Mac sender_mac;
  Ipv4 sender_ip;
};
struct SeenUdp {
  uint16_t from_port;
  std::string payload;
};

// The whole exchange, on a thread that has entered the namespace.
void exchange_inside(const std::string& netns) {
  UniqueFd ns(::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(ns.valid()) << errno_text(errno);
  ASSERT_EQ(::setns(ns.get(), CLONE_NEWNET), 0) << errno_text(errno);

  auto loop = make_loop();
  LinuxHostOptions options = testing::options_for("tap-host", kKernelAddr);
  options.tap_name = "loomtap0";
  options.tap_mtu = 1400;
  auto created = LinuxHost::create(*loop, options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  LinuxHost& host = **created;
  EXPECT_EQ(host.bridge().mtu(), 1400u);

  {  // The device exists here, up, with our MTU.
    UniqueFd ctl(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "loomtap0", IFNAMSIZ - 1);
    ASSERT_EQ(::ioctl(ctl.get(), SIOCGIFMTU, &ifr), 0) << errno_text(errno);
    EXPECT_EQ(ifr.ifr_mtu, 1400);
    ASSERT_EQ(::ioctl(ctl.get(), SIOCGIFFLAGS, &ifr), 0);
    EXPECT_TRUE(ifr.ifr_flags & IFF_UP);
  }
  ASSERT_TRUE(run("ip -n " + netns + " addr add " + kKernelAddr.to_string() + "/24 dev loomtap0"));

  std::optional<SeenArp> arp;
  std::optional<SeenUdp> udp;
  host.bridge().on_receive([&](ByteView frame) {
    if (frame.size() < 14) return;
    const uint16_t type = get16(frame, 12);
    if (type == 0x0806 && frame.size() >= 42 && get16(frame, 20) == 1 &&
        get32(frame, 38) == kPodAddr.value) {
      arp = SeenArp{get_mac(frame, 22), Ipv4(get32(frame, 28))};
    } else if (type == 0x0800 && frame.size() >= 42 && frame[23] == 17 &&
               get32(frame, 30) == kPodAddr.value && get16(frame, 36) == kPodPort) {
      const uint16_t udp_len = get16(frame, 38);
      udp = SeenUdp{get16(frame, 34),
                    std::string(frame.subview(42, udp_len >= 8 ? udp_len - 8u : 0u).as_chars())};
    }
  });

  // The kernel, in the namespace, sends to the pod: it must ARP first.
  UniqueFd kernel_socket(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in bind_to = to_sockaddr(Endpoint{kKernelAddr, 0});
  ASSERT_EQ(::bind(kernel_socket.get(), reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to), 0)
      << errno_text(errno);
  sockaddr_in pod = to_sockaddr(Endpoint{kPodAddr, kPodPort});
  const std::string hello = "hello pod";
  ASSERT_EQ(::sendto(kernel_socket.get(), hello.data(), hello.size(), 0,
                     reinterpret_cast<sockaddr*>(&pod), sizeof pod),
            static_cast<ssize_t>(hello.size()))
      << errno_text(errno);

  ASSERT_TRUE(loop->run_until([&] { return arp.has_value(); }, kPatience))
      << "no ARP request for the pod came out of the TAP";
  EXPECT_EQ(arp->sender_ip, kKernelAddr);

  // Answer it through bridge(): the queued datagram follows.
  ASSERT_TRUE(host.bridge().send(arp_reply(arp->sender_mac, kKernelAddr)));
  ASSERT_TRUE(loop->run_until([&] { return udp.has_value(); }, kPatience))
      << "the kernel's datagram never reached the pod";
  EXPECT_EQ(udp->payload, hello);

  // And the pod replies: a frame we write reaches the kernel's socket.
  const std::string answer = "hello kernel";
  ASSERT_TRUE(host.bridge().send(udp_frame(arp->sender_mac, kKernelAddr, udp->from_port, answer)));
  std::string received;
  ASSERT_TRUE(loop->run_until(
      [&] {
        char buf[256];
        ssize_t n = ::recv(kernel_socket.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) received.assign(buf, static_cast<size_t>(n));
        return !received.empty();
      },
      kPatience))
      << "the pod's frame never reached the kernel";
  EXPECT_EQ(received, answer);

  // Oversized frames are refused and counted, not truncated.
  EXPECT_FALSE(host.bridge().send(Bytes(1400 + 14 + 1, 0)));
  EXPECT_EQ(host.metrics().value("loom_host_dropped_total", {{"reason", "bridge_frame_bad_size"}}),
            1);
}

TEST(TapDevice, KernelAndPodExchangeFramesThroughBridge) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_NET_ADMIN) for a TAP and a netns";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/net/tun";
  if (!run("ip -V >/dev/null 2>&1")) GTEST_SKIP() << "needs iproute2 (ip)";
  NetnsGuard netns;
  ASSERT_TRUE(netns.ok()) << "ip netns add " << netns.name() << " failed";
  // setns() changes only the calling thread: the exchange gets its own.
  std::thread inside([&] { exchange_inside(netns.name()); });
  inside.join();
}

TEST(TapDevice, BadNameIsAClearErrorWithoutRoot) {
  auto loop = make_loop();
  Metrics metrics;
  auto tap = TapDevice::open(*loop, "", 1376, metrics);
  ASSERT_FALSE(tap.ok());
  EXPECT_NE(tap.error().message.find("1 to 15 characters"), std::string::npos)
      << tap.error().message;
}

}  // namespace
}  // namespace loom::live
