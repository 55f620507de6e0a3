// Watching the underlay: pcap files per host, the hop-transmission counter
// and the message-transfer counter.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

namespace fs = std::filesystem;

constexpr uint16_t kVxlanPort = 6784;  // fastdp's, not IANA's 4789

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "loom-pcap-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
         uint32_t{b[at + 3]} << 24;
}

// A fastdp-style datagram: VXLAN header (flags: VNI present; VNI 4242),
// then an inner Ethernet frame.
Bytes vxlan_datagram() {
  Bytes out = {0x08, 0, 0, 0, 0x00, 0x10, 0x92, 0};
  const Bytes inner_ethernet = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};
  out.insert(out.end(), inner_ethernet.begin(), inner_ethernet.end());
  out.resize(64, 0xab);
  return out;
}

std::optional<std::string> run(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buffer[256];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

TEST(SimPcap, AHostsPcapHoldsWhatItSentAndReceived) {
  TempDir dir;
  std::vector<std::string> paths;
  {
    World world;
    const size_t a = world.add_host("a");
    const size_t b = world.add_host("b");
    const size_t c = world.add_host("c");
    world.link(a, b);
    world.link(b, c);  // not a's: no file for it
    paths = world.enable_pcap(a, (dir.path / "cap").string());
    ASSERT_EQ(paths, std::vector<std::string>{(dir.path / "cap-0-0.pcap").string()});
    EXPECT_THROW(world.enable_pcap(a, (dir.path / "again").string()), std::logic_error);
    EXPECT_THROW(world.enable_pcap(b, "/nonexistent-dir/x"), std::invalid_argument);
    world.link(c, a);  // a link a gains later gets its file too (link 2, a's side)
    DatagramSocket* tx = *world.host(a).udp(kVxlanPort);
    DatagramSocket* back = *world.host(b).udp(7000);
    for (int i = 0; i < 5; ++i) {
      tx->send_to({world.host(b).address(), kVxlanPort}, vxlan_datagram());
    }
    (*world.host(a).udp(7000))->on_receive([](const Endpoint&, ByteView) {});
    (*world.host(b).udp(kVxlanPort))->on_receive([](const Endpoint&, ByteView) {});
    for (int i = 0; i < 3; ++i) back->send_to({world.host(a).address(), 7000}, Bytes(64, 1));
    world.run_for(milliseconds(50));
  }  // the files are complete once the World is gone

  std::ifstream in(paths[0], std::ios::binary);
  const std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  ASSERT_GE(file.size(), 24u);
  EXPECT_EQ(le32(file, 0), 0xa1b2c3d4u);  // classic pcap, microseconds
  EXPECT_EQ(le32(file, 20), 9u);          // LINKTYPE_PPP
  size_t records = 0;
  for (size_t at = 24; at + 16 <= file.size(); ++records) {
    const uint32_t captured = le32(file, at + 8);
    EXPECT_EQ(captured, 2u + 20 + 8 + 64);  // PPP, IPv4, UDP, payload
    at += 16 + captured;
    EXPECT_LE(at, file.size());
  }
  EXPECT_EQ(records, 8u);  // 5 sent, 3 received
  EXPECT_TRUE(fs::exists(dir.path / "cap-0-2.pcap"));
  EXPECT_FALSE(fs::exists(dir.path / "cap-0-1.pcap"));

  // The documented decode: tshark reads VXLAN on 6784 when told to.
  if (std::system("command -v tshark > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "tshark not installed (Debian: apt-get install tshark)";
  }
  const auto vnis = run("tshark -r '" + paths[0] + "' -d udp.port==6784,vxlan -Y vxlan " +
                        "-T fields -e vxlan.vni 2>/dev/null");
  ASSERT_TRUE(vnis.has_value()) << "tshark failed";
  EXPECT_EQ(*vnis, "4242\n4242\n4242\n4242\n4242\n");
}

TEST(SimUnderlayCounters, EachHopOfEachPacketCountsOnce) {
  World world;
  const size_t a = world.add_host("a");
  const size_t hub = world.add_host("hub");
  const size_t b = world.add_host("b");
  world.link(a, hub);
  world.link(hub, b);
  DatagramSocket* tx = *world.host(a).udp(kVxlanPort);
  (*world.host(b).udp(kVxlanPort))->on_receive([](const Endpoint&, ByteView) {});
  world.run_for(milliseconds(10));
  EXPECT_EQ(world.underlay_packets(), 0u);
  for (int i = 0; i < 10; ++i) tx->send_to({world.host(b).address(), kVxlanPort}, Bytes(100, 1));
  world.run_for(milliseconds(50));
  EXPECT_EQ(world.underlay_packets(), 20u);  // a -> hub -> b
  EXPECT_EQ(world.message_transfers(), 0u);  // tcp fidelity
}

TEST(SimUnderlayCounters, MessageFidelityCountsItsTransfers) {
  WorldOptions options;
  options.streams = StreamFidelity::message;
  World world(options);
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  StreamPtr server;
  StreamPtr client;
  Bytes received;
  ASSERT_TRUE(world.host(b)
                  .listen(6783,
                          [&](StreamPtr s) {
                            server = s;
                            s->set_handlers({[&](ByteView bytes) {
                                               received.insert(received.end(), bytes.begin(),
                                                               bytes.end());
                                             },
                                             {}});
                          })
                  .ok());
  world.host(a).connect({world.host(b).address(), 6783}, [&](Result<StreamPtr> r) {
    ASSERT_TRUE(r.ok());
    client = *r;
    client->set_handlers({{}, {}});
  });
  ASSERT_TRUE(world.run_until([&] { return client && server; }, seconds(5)));
  EXPECT_EQ(world.message_transfers(), 2u);  // SYN, SYN-ACK
  client->write(Bytes(100000, 1));
  client->write(Bytes(10, 1));
  ASSERT_TRUE(world.run_until([&] { return received.size() == 100010; }, seconds(10)));
  EXPECT_EQ(world.message_transfers(), 4u);  // one per write, however large
  EXPECT_EQ(world.underlay_packets(), 0u);   // no ns-3 packet at all
}

}  // namespace
}  // namespace loom::sim
