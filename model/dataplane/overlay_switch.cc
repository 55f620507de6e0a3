#include "model/dataplane/overlay_switch.h"

#include "model/dataplane/data_plane.h"

namespace loom::dataplane {

SwitchForwarder::SwitchForwarder(DataPlane& plane, PeerName remote,
                                 mesh::OverlayCallbacks callbacks)
    : plane_(plane), remote_(remote), callbacks_(std::move(callbacks)) {}

SwitchForwarder::~SwitchForwarder() { stop(); }

std::string SwitchForwarder::prefix() const {
  return "overlay_switch ->[" + remote_.to_string() + "] ";
}

void SwitchForwarder::add(std::string overlay, std::unique_ptr<Forwarder> forwarder) {
  subs_.push_back(Sub{std::move(overlay), std::move(forwarder)});
}

ForwarderEvents SwitchForwarder::events_for(size_t index) {
  ForwarderEvents events;
  events.established = [this, index] { sub_established(index); };
  events.health = [this, index](bool healthy) { sub_health(index, healthy); };
  events.failed = [this, index](const Error& error) { sub_failed(index, error); };
  return events;
}

void SwitchForwarder::confirm() {
  if (confirmed_ || stopped_) return;
  confirmed_ = true;
  plane_.register_connection(*this);
  for (Sub& sub : subs_) {
    if (sub.forwarder) sub.forwarder->confirm();
  }
}

void SwitchForwarder::control_message(ByteView message) {
  if (stopped_) return;
  if (message.size() < 2) {
    LOOM_LOG(plane_.host_.log(), "dataplane", info,
             prefix() << "ignoring control message of " << message.size() << " bytes");
    return;
  }
  const size_t index = message[0];
  if (index >= subs_.size() || !subs_[index].forwarder) return;
  subs_[index].forwarder->control_message(message[1], message.subview(2));
}

void SwitchForwarder::stop() {
  if (stopped_) return;
  stopped_ = true;
  plane_.unregister_connection(*this);
  for (Sub& sub : subs_) {
    if (sub.forwarder) sub.forwarder->stop();
  }
}

std::string SwitchForwarder::attrs() const {
  const Forwarder* b = best();
  if (b == nullptr) return "none";
  return best_overlay() + " mtu=" + std::to_string(b->mtu());
}

const Forwarder* SwitchForwarder::best() const {
  if (best_ < 0) return nullptr;
  return subs_[static_cast<size_t>(best_)].forwarder.get();
}

std::string SwitchForwarder::best_overlay() const {
  return best() == nullptr ? "none" : subs_[static_cast<size_t>(best_)].overlay;
}

ForwardResult SwitchForwarder::forward(const ForwardKey& key, ByteView frame, bool broadcast) {
  if (stopped_ || best_ < 0) return ForwardResult::kNotCarried;
  for (size_t i = static_cast<size_t>(best_); i < subs_.size(); ++i) {
    if (!subs_[i].forwarder) continue;
    const ForwardResult r = subs_[i].forwarder->forward(key, frame, broadcast);
    if (r != ForwardResult::kNotCarried) return r;
  }
  return ForwardResult::kNotCarried;
}

void SwitchForwarder::sub_established(size_t index) {
  if (stopped_) return;
  subs_[index].established = true;
  choose_best();
  if (!established_) {
    established_ = true;
    if (callbacks_.established) callbacks_.established();
  }
}

void SwitchForwarder::sub_health(size_t index, bool healthy) {
  if (stopped_) return;
  subs_[index].healthy = healthy;
  choose_best();
}

void SwitchForwarder::sub_failed(size_t index, const Error& error) {
  if (stopped_) return;
  LOOM_LOG(plane_.host_.log(), "dataplane", info,
           prefix() << subs_[index].overlay << " " << error.message);
  plane_.bury(std::move(subs_[index].forwarder));
  choose_best();
}

void SwitchForwarder::choose_best() {
  int best_established = -1;
  int best_working = -1;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Sub& sub = subs_[i];
    if (!sub.forwarder) continue;
    if (best_working < 0) best_working = static_cast<int>(i);
    if (best_established < 0 && sub.established && sub.healthy)
      best_established = static_cast<int>(i);
  }
  int best = best_established >= 0 ? best_established : best_working;
  if (best < 0) {
    best_ = -1;
    if (!failed_) {
      failed_ = true;
      // The connection closes and stops us: nothing after this call.
      if (callbacks_.failed)
        callbacks_.failed(make_error("no working forwarders to " + remote_.to_string()));
    }
    return;
  }
  if (best != best_) {
    best_ = best;
    LOOM_LOG(plane_.host_.log(), "dataplane", info,
             prefix() << "using " << subs_[static_cast<size_t>(best)].overlay);
  }
}

}  // namespace loom::dataplane
