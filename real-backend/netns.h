// Network namespaces for LinuxHost: a socket belongs for good to the network
// namespace of the thread that created it, so a host placed in a namespace
// creates its sockets (and its TAP) with the calling thread moved there for
// that one call, and back. Several hosts in several namespaces can then share
// one thread and one EventLoop. Needs CAP_SYS_ADMIN.
#pragma once

#include <string>

#include "model/result.h"
#include "real-backend/socket_util.h"

namespace loom::live {

// Opens a network namespace: a name as `ip netns` knows it
// (/var/run/netns/NAME), or a path such as /proc/PID/ns/net.
Result<UniqueFd> open_netns(const std::string& name_or_path);

// While it lives, the calling thread is in another network namespace; when it
// ends the thread is back where it was. Create and destroy it on one thread.
class NetnsScope {
 public:
  // Enters the namespace netns refers to; an invalid fd (-1) stays put.
  static Result<NetnsScope> enter(int netns);
  NetnsScope(NetnsScope&& other) noexcept = default;
  NetnsScope& operator=(NetnsScope&&) = delete;
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  // Returning cannot fail short of a kernel fault; if it does, the process
  // aborts rather than create later sockets in the wrong namespace.
  ~NetnsScope();

 private:
  explicit NetnsScope(UniqueFd previous) : previous_(std::move(previous)) {}
  UniqueFd previous_;  // invalid: nothing to undo
};

}  // namespace loom::live
