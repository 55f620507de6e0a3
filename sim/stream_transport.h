// StreamTransport: how an Ns3Host's listen() and connect() are simulated.
//
// The seam's Stream has two fidelities in simulation (design.md, Backends):
// ns-3's TCP, every segment simulated, and a message-level transport for
// thousands of peers. Both sit behind this interface so that Ns3Host, and the
// engines above it, do not change when the World picks the other one.
#pragma once

#include <cstdint>
#include <memory>

#include "model/host.h"
#include "sim/world.h"

namespace loom::sim {

class Ns3Host;

class StreamTransport {
 public:
  virtual ~StreamTransport() = default;
  // Host::listen and Host::connect, with the same contract.
  virtual Result<void> listen(uint16_t port, AcceptHandler on_accept) = 0;
  virtual void connect(const Endpoint& to, ConnectHandler on_done) = 0;
  // The host's process died (World::stop_host): every connection of the
  // host, open or already closed by it, is reset (the peer gets a RST), every
  // listener and pending connect is closed, and the ports are free to bind
  // again. No callback runs afterwards; the transport is destroyed next.
  virtual void crash() = 0;
};

// The transport for one host; the host outlives it.
std::unique_ptr<StreamTransport> make_stream_transport(StreamFidelity fidelity, Ns3Host& host);

}  // namespace loom::sim
