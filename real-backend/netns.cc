#include "real-backend/netns.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

namespace loom::live {

Result<UniqueFd> open_netns(const std::string& name_or_path) {
  if (name_or_path.empty()) return make_error("network namespace: empty name");
  std::string path = name_or_path;
  if (path.find('/') == std::string::npos) {
    path = "/var/run/netns/" + path;  // where `ip netns add` puts them
  } else if (path[0] != '/') {
    return make_error("network namespace '" + name_or_path +
                      "': give a name from `ip netns list` or an absolute path");
  }
  const std::string what =
      "network namespace " + name_or_path + (path == name_or_path ? "" : " (" + path + ")") + ": ";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(what + errno_text(errno));
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) return make_error(what + "not a namespace (" + errno_text(errno) + ")");
  if (type != CLONE_NEWNET) return make_error(what + "a namespace, but not a network one");
  return fd;
}

Result<NetnsScope> NetnsScope::enter(int netns) {
  if (netns < 0) return NetnsScope(UniqueFd());
  // thread-self, not self: setns() moves only the calling thread.
  UniqueFd previous(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!previous.valid()) {
    return make_error("opening /proc/thread-self/ns/net: " + errno_text(errno));
  }
  if (::setns(netns, CLONE_NEWNET) != 0) {
    const int err = errno;
    return make_error("setns: " + errno_text(err) + (err == EPERM ? " (needs CAP_SYS_ADMIN)" : ""));
  }
  return NetnsScope(std::move(previous));
}

NetnsScope::~NetnsScope() {
  if (!previous_.valid()) return;
  if (::setns(previous_.get(), CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "loom: cannot return to the thread's network namespace: %s\n",
                 errno_text(errno).c_str());
    std::abort();
  }
}

}  // namespace loom::live
