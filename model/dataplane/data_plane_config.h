// DataPlaneConfig: every constant of Weave's data plane, as a parameter.
// Defaults are Weave's (weave-protocol.md sections 0, 3, 4).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/crypto/esp.h"
#include "model/host.h"

namespace loom::dataplane {

struct DataPlaneConfig {
  uint16_t sleeve_port = 6783;  // the mesh port: sleeve is UDP on the same number
  uint16_t vxlan_port = 6784;   // the mesh port + 1 (fastdp)
  // Encrypted fastdp: Weave sends raw ESP (IP protocol 50); on the Host
  // seam ESP travels in UDP, RFC 3948.
  uint16_t esp_port = crypto::kEspUdpPort;

  // Overlays we offer, in order of preference (Weave's "fastdp sleeve").
  std::vector<std::string> overlays{"fastdp", "sleeve"};
  // A remote that sends no "Overlays" feature gets Weave's compatibility
  // overlay, sleeve alone (Loom's mesh sends it: DataPlane::
  // advertised_overlays). True assumes such a remote offers ours, for a
  // harness that connects forwarders without a mesh handshake.
  bool assume_remote_overlays = false;

  // fastdp: the datapath MTU (WEAVE_MTU, 1376 by default); heartbeats are
  // 14 + this many bytes, so a path that cannot carry them never
  // establishes fastdp. Larger frames are dropped and counted.
  size_t fastdp_mtu = 1376;
  // A fixed VNI instead of Weave's srcShortID | dstShortID << 12 (to talk
  // to a Linux vxlan device, which has one VNI). Senders are then told
  // apart by their underlay address, and nothing is relayed over fastdp.
  std::optional<uint32_t> fixed_vni;
  // Encrypted fastdp's AEAD. Weave's is AES-256-GCM; where the CPU lacks
  // it, IPsec setup fails and the connection uses encrypted sleeve, as in
  // Weave. Both ends must agree.
  crypto::EspCipher esp_cipher = crypto::EspCipher::kAes256Gcm;

  // sleeve: the underlay path MTU that PMTU discovery starts from (Weave
  // reads it from the kernel after EMSGSIZE; the seam has no DF socket).
  size_t underlay_mtu = 1500;
  bool pmtu_discovery = true;
  Time mtu_verify_timeout = std::chrono::milliseconds(10);  // doubled per attempt
  int mtu_verify_attempts = 8;
  Time frag_test_interval = std::chrono::minutes(5);
  size_t max_batch_frames = 100;

  // Both overlays' UDP heartbeats.
  Time fast_heartbeat = std::chrono::milliseconds(500);  // until acknowledged
  Time slow_heartbeat = std::chrono::seconds(10);
  int max_missed_heartbeats = 6;  // timeout = 6 x 10 s

  Time mac_max_age = std::chrono::minutes(10);          // swept every tenth of it
  Time flow_expiry_interval = std::chrono::minutes(5);  // unused flows deleted

  Time heartbeat_timeout() const { return slow_heartbeat * max_missed_heartbeats; }
};

}  // namespace loom::dataplane
