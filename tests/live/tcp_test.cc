// TCP streams between two LinuxHosts on 127.0.0.1 and 127.0.0.2, one loop.
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "real-backend/linux_host.h"
#include "real-backend/socket_util.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kAddrA;
using testing::kAddrB;
using testing::kPatience;
using testing::make_host;
using testing::make_loop;

Bytes pattern(size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>((i * 131) ^ (i >> 11));
  return out;
}

// Two hosts, b listening on an ephemeral port, a connected to it.
class TcpPair : public ::testing::Test {
 protected:
  void SetUp() override {
    loop = make_loop();
    a = make_host(*loop, "a", kAddrA);
    b = make_host(*loop, "b", kAddrB);
    auto port = b->listen_on(0, [this](StreamPtr s) { accepted = std::move(s); });
    ASSERT_TRUE(port.ok()) << port.error().message;
    server_port = *port;
  }

  void connect_pair() {
    a->connect(Endpoint{kAddrB, server_port}, [this](Result<StreamPtr> r) {
      ASSERT_TRUE(r.ok()) << r.error().message;
      client = std::move(*r);
    });
    ASSERT_TRUE(loop->run_until([&] { return client && accepted; }, kPatience));
  }

  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<LinuxHost> a;
  std::unique_ptr<LinuxHost> b;
  uint16_t server_port = 0;
  StreamPtr client;
  StreamPtr accepted;
};

TEST_F(TcpPair, EndpointsShowEachHostsAddress) {
  connect_pair();
  EXPECT_EQ(client->remote(), (Endpoint{kAddrB, server_port}));
  EXPECT_EQ(client->local().addr, kAddrA);  // the source is bound to a's address
  EXPECT_EQ(accepted->remote(), client->local());
  EXPECT_EQ(accepted->local(), client->remote());
  EXPECT_TRUE(client->is_open());
  EXPECT_TRUE(accepted->is_open());
}

TEST_F(TcpPair, EchoOfFourMebibytesKeepsOrderAndShowsBackpressure) {
  connect_pair();
  // b echoes everything back.
  accepted->set_handlers({[this](ByteView data) { accepted->write(data); }, nullptr});
  Bytes echoed;
  client->set_handlers(
      {[&](ByteView data) { echoed.insert(echoed.end(), data.begin(), data.end()); },
       [](const Error& e) { ADD_FAILURE() << "unexpected close: " << e.message; }});

  const Bytes sent = pattern(4 << 20);
  // Several writes, as an engine writes messages.
  for (size_t off = 0; off < sent.size(); off += 256 << 10) {
    client->write(ByteView(sent).subview(off, 256 << 10));
  }
  // A fresh socket cannot take 4 MiB at once: the rest waits in pending().
  EXPECT_GT(client->pending(), 0u);
  EXPECT_LE(client->pending(), sent.size());

  ASSERT_TRUE(loop->run_until([&] { return echoed.size() >= sent.size(); }, 60s))
      << "echoed " << echoed.size() << " of " << sent.size();
  EXPECT_EQ(echoed.size(), sent.size());
  EXPECT_TRUE(echoed == sent) << "bytes reordered or corrupted";
  EXPECT_EQ(client->pending(), 0u);
  EXPECT_EQ(accepted->pending(), 0u);
}

TEST_F(TcpPair, OnDrainedFiresOnceWhenTheQueueEmpties) {
  connect_pair();
  size_t received = 0;
  accepted->set_handlers({[&](ByteView d) { received += d.size(); }, nullptr});
  std::vector<size_t> pending_at_drained;
  client->set_handlers({.on_data = nullptr,
                        .on_close = [](const Error& e) { ADD_FAILURE() << e.message; },
                        .on_drained = [&] { pending_at_drained.push_back(client->pending()); }});
  // More than loopback's socket buffers take at once.
  const Bytes sent = pattern(32 << 20);
  client->write(sent);
  EXPECT_GT(client->pending(), 0u);
  EXPECT_TRUE(pending_at_drained.empty());  // never from inside write()
  ASSERT_TRUE(loop->run_until([&] { return !pending_at_drained.empty(); }, 60s));
  EXPECT_EQ(pending_at_drained, std::vector<size_t>{0});
  ASSERT_TRUE(loop->run_until([&] { return received == sent.size(); }, 60s));
  // A small write now goes out at once: no second call.
  client->write(Bytes(100, 1));
  EXPECT_EQ(client->pending(), 0u);
  ASSERT_TRUE(loop->run_until([&] { return received == sent.size() + 100; }, kPatience));
  loop->run_for(20ms);
  EXPECT_EQ(pending_at_drained.size(), 1u);
}

TEST_F(TcpPair, OnDrainedIsNotCalledWhenWritesGoOutAtOnce) {
  connect_pair();
  size_t received = 0;
  accepted->set_handlers({[&](ByteView d) { received += d.size(); }, nullptr});
  int drained = 0;
  client->set_handlers({.on_data = nullptr, .on_close = nullptr, .on_drained = [&] { ++drained; }});
  for (int i = 0; i < 10; ++i) {
    client->write(Bytes(1000, static_cast<uint8_t>(i)));
    EXPECT_EQ(client->pending(), 0u);
  }
  ASSERT_TRUE(loop->run_until([&] { return received == 10000; }, kPatience));
  loop->run_for(20ms);
  EXPECT_EQ(drained, 0);
}

TEST_F(TcpPair, PeerCloseIsReportedOnceThroughOnClose) {
  connect_pair();
  int closes = 0;
  std::string reason;
  client->set_handlers({[](ByteView) {},
                        [&](const Error& e) {
                          ++closes;
                          reason = e.message;
                        }});
  accepted->close();
  EXPECT_FALSE(accepted->is_open());
  ASSERT_TRUE(loop->run_until([&] { return closes > 0; }, kPatience));
  EXPECT_NE(reason.find("closed by peer"), std::string::npos) << reason;
  EXPECT_NE(reason.find(Endpoint{kAddrB, server_port}.to_string()), std::string::npos) << reason;
  EXPECT_FALSE(client->is_open());
  client->write(Bytes{1, 2, 3});  // ignored
  client->close();                // no-op
  loop->run_for(30ms);
  EXPECT_EQ(closes, 1);
  ASSERT_TRUE(
      loop->run_until([&] { return a->stream_count() + b->stream_count() == 0; }, kPatience));
}

TEST_F(TcpPair, CloseFlushesEverythingQueuedFirst) {
  connect_pair();
  Bytes got;
  bool closed = false;
  accepted->set_handlers({[&](ByteView d) { got.insert(got.end(), d.begin(), d.end()); },
                          [&](const Error&) { closed = true; }});
  const Bytes sent = pattern(4 << 20);
  bool client_handler_called = false;
  client->set_handlers({[&](ByteView) { client_handler_called = true; },
                        [&](const Error&) { client_handler_called = true; }});
  client->write(sent);
  client->close();
  EXPECT_FALSE(client->is_open());
  client.reset();  // dropping the last pointer after close() is fine
  ASSERT_TRUE(loop->run_until([&] { return closed; }, 60s));
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
  EXPECT_FALSE(client_handler_called);
}

TEST_F(TcpPair, BytesArrivingBeforeSetHandlersAreHeldThenDelivered) {
  connect_pair();
  client->write(ByteView(std::string_view("hello, ")));
  client->write(ByteView(std::string_view("held bytes")));
  client->close();
  // Let the bytes and the FIN arrive with no handlers on the accepted side.
  ASSERT_TRUE(loop->run_until([&] { return a->stream_count() == 0; }, kPatience));

  std::string got;
  int closes = 0;
  bool inside_set_handlers = true;
  accepted->set_handlers({[&](ByteView d) {
                            EXPECT_FALSE(inside_set_handlers);
                            EXPECT_EQ(closes, 0) << "data must come before the close";
                            got += d.as_chars();
                          },
                          [&](const Error&) { ++closes; }});
  inside_set_handlers = false;
  ASSERT_TRUE(loop->run_until([&] { return closes > 0; }, kPatience));
  EXPECT_EQ(got, "hello, held bytes");
  EXPECT_EQ(closes, 1);
}

TEST_F(TcpPair, ManyBytesBeforeSetHandlersPauseReadingAndLoseNothing) {
  connect_pair();
  const Bytes sent = pattern(3 << 20);  // more than is held before reading pauses
  client->write(sent);
  loop->run_for(100ms);  // whatever arrives meanwhile is held, in order
  Bytes got;
  accepted->set_handlers({[&](ByteView d) { got.insert(got.end(), d.begin(), d.end()); }, nullptr});
  ASSERT_TRUE(loop->run_until([&] { return got.size() >= sent.size(); }, 60s));
  EXPECT_TRUE(got == sent);
  EXPECT_EQ(client->pending(), 0u);
}

TEST_F(TcpPair, DroppingEveryPointerDoesNotCloseTheStream) {
  connect_pair();
  accepted.reset();  // b's engine forgot it; the connection stays up
  std::string got;
  client->set_handlers({[&](ByteView d) { got += d.as_chars(); }, nullptr});
  loop->run_for(20ms);
  EXPECT_TRUE(client->is_open());
  EXPECT_EQ(b->stream_count(), 1u);
}

TEST_F(TcpPair, DestroyingTheHostClosesItsStreamsSilently) {
  connect_pair();
  bool accepted_called = false;
  accepted->set_handlers(
      {[&](ByteView) { accepted_called = true; }, [&](const Error&) { accepted_called = true; }});
  std::string reason;
  client->set_handlers({[](ByteView) {}, [&](const Error& e) { reason = e.message; }});
  b.reset();
  EXPECT_FALSE(accepted->is_open());
  ASSERT_TRUE(loop->run_until([&] { return !reason.empty(); }, kPatience));
  EXPECT_FALSE(accepted_called);
  accepted->write(Bytes{1});  // the stream outlives its host harmlessly
  accepted->close();
}

TEST_F(TcpPair, PeerResetIsReportedWithTheReason) {
  // A raw kernel client that aborts (SO_LINGER 0 sends a reset).
  UniqueFd raw(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to = to_sockaddr(Endpoint{kAddrB, server_port});
  ASSERT_EQ(::connect(raw.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_TRUE(loop->run_until([&] { return accepted != nullptr; }, kPatience));
  std::string reason;
  accepted->set_handlers({[](ByteView) {}, [&](const Error& e) { reason = e.message; }});
  linger abort_on_close{1, 0};
  ASSERT_EQ(setsockopt(raw.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close),
            0);
  raw.reset();
  ASSERT_TRUE(loop->run_until([&] { return !reason.empty(); }, kPatience));
  EXPECT_NE(reason.find("reset"), std::string::npos) << reason;
}

TEST(LinuxHostTcp, ConnectRefusedIsAnErrorNamingTheEndpoint) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  std::optional<Result<StreamPtr>> outcome;
  // Nothing listens on 127.0.0.3 in any test.
  a->connect(Endpoint{Ipv4::from_octets(127, 0, 0, 3), 27999},
             [&](Result<StreamPtr> r) { outcome.emplace(std::move(r)); });
  EXPECT_FALSE(outcome.has_value()) << "connect must report from the loop, never inside connect()";
  ASSERT_TRUE(loop->run_until([&] { return outcome.has_value(); }, kPatience));
  ASSERT_FALSE(outcome->ok());
  const std::string& message = outcome->error().message;
  EXPECT_NE(message.find("127.0.0.3:27999"), std::string::npos) << message;
  EXPECT_NE(message.find("refused"), std::string::npos) << message;
}

TEST(LinuxHostTcp, ConnectTimesOutWhenNobodyAnswers) {
  auto loop = make_loop();
  auto options = testing::options_for("a", kAddrA);
  options.connect_timeout = 50ms;
  auto a = LinuxHost::create(*loop, options);
  ASSERT_TRUE(a.ok());
  // A listener whose backlog is full leaves further SYNs unanswered.
  UniqueFd full(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in at = to_sockaddr(Endpoint{kAddrB, 0});
  ASSERT_EQ(::bind(full.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);
  ASSERT_EQ(::listen(full.get(), 0), 0);
  const Endpoint target = local_endpoint(full.get());
  std::vector<std::string> errors;
  int connected = 0;
  for (int i = 0; i < 4; ++i) {
    (*a)->connect(target, [&](Result<StreamPtr> r) {
      if (r.ok()) {
        ++connected;
      } else {
        errors.push_back(r.error().message);
      }
    });
  }
  ASSERT_TRUE(loop->run_until([&] { return connected + errors.size() == 4; }, kPatience));
  ASSERT_FALSE(errors.empty()) << "every connect completed despite a full backlog";
  EXPECT_NE(errors[0].find("timed out"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(target.to_string()), std::string::npos) << errors[0];
}

TEST(LinuxHostTcp, ListenTwiceOnOnePortFails) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto other = make_host(*loop, "a2", kAddrA);
  auto port = a->listen_on(0, [](StreamPtr) {});
  ASSERT_TRUE(port.ok()) << port.error().message;
  auto again = a->listen(*port, [](StreamPtr) {});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(Endpoint{kAddrA, *port}.to_string()), std::string::npos);
  auto clash = other->listen(*port, [](StreamPtr) {});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("in use"), std::string::npos) << clash.error().message;
}

TEST(LinuxHostTcp, ConnectHandlerFromADestroyedHostIsNeverCalled) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  bool called = false;
  a->connect(Endpoint{Ipv4::from_octets(127, 0, 0, 3), 27998},
             [&](Result<StreamPtr>) { called = true; });
  a.reset();
  loop->run_for(50ms);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace loom::live
