// MeshConfig: every constant of Weave's mesh, as a parameter.
//
// Defaults are Weave's own values (weave-protocol.md section 0; mesh v0.4 and
// weaver 2.8). A plain struct: engines read what they need from it, scenarios
// override single fields.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "model/host.h"

namespace loom::mesh {

struct MeshConfig {
  // TCP control port, and the port assumed for peers given without one.
  uint16_t port = 6783;
  // weaver's --conn-limit default (200 since Weave 2.6.0; the docs still say 100).
  // Soft: checked before dialling and when adding a connection. 0: no limit.
  size_t conn_limit = 200;
  // Connect to peers that others are connected to (--no-discovery turns it off).
  bool discovery = true;

  int protocol_min_version = 1;
  int protocol_max_version = 2;
  size_t max_message_size = size_t{10} << 20;  // 10 MiB, protocol v2

  Time handshake_timeout = std::chrono::seconds(10);
  Time heartbeat_interval = std::chrono::seconds(30);
  Time read_timeout = std::chrono::seconds(60);  // 2 × the heartbeat

  Time gossip_interval = std::chrono::seconds(30);       // periodic full gossip
  Time topology_update_delay = std::chrono::seconds(1);  // coalesces local changes
  Time route_recalculation_delay = std::chrono::milliseconds(100);
  Time gc_delay = std::chrono::seconds(1);  // peer GC after topology updates

  // ConnectionMaker back-off: next try after interval/2 + uniform[0, interval),
  // then interval = min(interval × factor, max).
  Time initial_backoff = std::chrono::seconds(2);
  double backoff_factor = 1.5;
  Time max_backoff = std::chrono::minutes(6);
  // A connection that ends more than this after its target's last try time is
  // retried at once, with the interval reset.
  Time reset_backoff_after = std::chrono::minutes(1);

  // Accept throttle: a token bucket of this capacity, one token per interval.
  size_t accept_bucket_capacity = 20;
  Time accept_token_interval = std::chrono::milliseconds(50);
};

}  // namespace loom::mesh
