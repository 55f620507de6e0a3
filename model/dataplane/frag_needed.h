// The ICMP "fragmentation needed" that Weave's sleeve hands back to a pod
// whose DF packet is larger than the overlay MTU (weave:router/
// ethernet_decoder.go sendICMPFragNeeded; weave-protocol.md 3.4): as if
// sent by the destination, with the MTU the pod should use.
#pragma once

#include <cstddef>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::dataplane {

// Whether an Ethernet frame carries IPv4 with DF set (untagged frames only,
// as Weave's decoder reads them).
bool ipv4_dont_fragment(ByteView frame);

// The reply to an oversized IPv4 frame: Ethernet with the MACs swapped;
// IPv4 from the original destination to the original source, TOS copied,
// TTL 64, id 0, no flags; ICMP type 3 code 4 with the next-hop MTU, quoting
// the original IP header and 8 bytes of its payload. Fails when the frame
// is not IPv4.
Result<Bytes> make_frag_needed(ByteView frame, size_t mtu);

}  // namespace loom::dataplane
