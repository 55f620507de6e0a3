// Our fastdp VXLAN against Linux's own: a LinuxHost in one network namespace
// runs the DataPlane (its TAP is the pods' side, the namespace's kernel is
// the "pod" at 10.40.0.1), and the other namespace has a kernel vxlan device
// (`ip link add ... type vxlan id 42 dstport 6784`) at 10.40.0.2. The data
// plane uses a fixed VNI (Linux's device has one). Pings both ways must be
// answered: our encapsulation is wire-exact both ways.
//
// Needs root (network namespaces); skips otherwise, saying why.
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "model/dataplane/data_plane.h"
#include "real-backend/event_loop.h"
#include "real-backend/linux_host.h"
#include "tests/support/netns.h"

namespace loom::dataplane {
namespace {

using namespace std::chrono_literals;
using testing_live::run_command;

constexpr uint32_t kVni = 42;
const PeerName kUs(0x0a0000000001ULL);
const PeerName kLinux(0x0a0000000002ULL);

class VxlanInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing_live::why_no_netns(); !why.empty()) GTEST_SKIP() << why;
    net_ = std::make_unique<testing_live::VethPair>("vx");
    ASSERT_TRUE(net_->ok()) << net_->error();
    auto loop = live::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.error().message;
    loop_ = std::move(*loop);

    live::LinuxHostOptions options;
    options.name = "loom";
    options.address = net_->addr_a();
    options.netns = net_->ns_a();
    options.tap_name = "loomtap0";
    options.seed = 1;
    auto host = live::LinuxHost::create(*loop_, options);
    ASSERT_TRUE(host.ok()) << host.error().message;
    host_ = std::move(*host);
    ASSERT_EQ(ns_a("ip addr add 10.40.0.1/24 dev loomtap0"), 0);

    // Linux's side: one VNI, every unknown destination to our address.
    ASSERT_EQ(
        ns_b("ip link add vx0 type vxlan id " + std::to_string(kVni) + " remote " +
             net_->addr_a().to_string() + " local " + net_->addr_b().to_string() + " dstport 6784"),
        0);
    ASSERT_EQ(ns_b("ip link set vx0 mtu 1376 up"), 0);
    ASSERT_EQ(ns_b("ip addr add 10.40.0.2/24 dev vx0"), 0);

    DataPlaneConfig config;
    config.overlays = {"fastdp"};
    config.fixed_vni = kVni;
    plane_ = std::make_unique<DataPlane>(*host_, config);
    plane_->attach(topology_);
    auto started = plane_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    mesh::OverlayConnectionParams params;
    params.remote_peer = kLinux;
    params.local_address = Endpoint{net_->addr_a(), 6783};
    params.remote_address = Endpoint{net_->addr_b(), 6783};
    params.outbound = true;
    params.connection_uid = 1;
    params.send_control = [](ByteView) {};          // Linux has no control channel
    params.remote_features["Overlays"] = "fastdp";  // as if it had a handshake
    auto conn = plane_->prepare(params, {});
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    connection_ = std::move(*conn);
    connection_->confirm();
  }

  void TearDown() override {
    connection_.reset();
    plane_.reset();
    host_.reset();
    loop_.reset();
    net_.reset();
  }

  int ns_a(const std::string& command) {
    return run_command("ip netns exec " + net_->ns_a() + " " + command);
  }
  int ns_b(const std::string& command) {
    return run_command("ip netns exec " + net_->ns_b() + " " + command);
  }

  // Runs command on a thread while the loop serves the data plane; its exit status.
  int while_looping(const std::string& command) {
    std::atomic<int> status{-1};
    std::atomic<bool> done{false};
    std::thread t([&] {
      status = run_command(command);
      done = true;
    });
    loop_->run_until([&] { return done.load(); }, 30s);
    t.join();
    return status;
  }

  std::unique_ptr<testing_live::VethPair> net_;
  std::unique_ptr<live::EventLoop> loop_;
  std::unique_ptr<live::LinuxHost> host_;
  StaticTopology topology_{kUs, 1, {{kLinux, 2}}};
  std::unique_ptr<DataPlane> plane_;
  std::unique_ptr<mesh::OverlayConnection> connection_;
};

TEST_F(VxlanInterop, PingsCrossBetweenOurVxlanAndLinuxVxlanBothWays) {
  EXPECT_EQ(while_looping("ip netns exec " + net_->ns_a() +
                          " ping -c 3 -i 0.2 -W 2 10.40.0.2 >/dev/null"),
            0)
      << "our side -> Linux vxlan";
  EXPECT_EQ(while_looping("ip netns exec " + net_->ns_b() +
                          " ping -c 3 -i 0.2 -W 2 10.40.0.1 >/dev/null"),
            0)
      << "Linux vxlan -> our side";
  Metrics& m = host_->metrics();
  EXPECT_GE(m.value("loom_dataplane_sent_frames_total", {{"overlay", "fastdp"}}), 6);
  EXPECT_GE(m.value("loom_dataplane_received_frames_total", {{"overlay", "fastdp"}}), 6);
  // Linux's MAC was learnt at its peer from the frames it sent.
  bool linux_mac = false;
  for (const auto& e : plane_->macs().entries()) linux_mac = linux_mac || e.peer == kLinux;
  EXPECT_TRUE(linux_mac);
}

}  // namespace
}  // namespace loom::dataplane
