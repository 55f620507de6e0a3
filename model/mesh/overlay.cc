#include "model/mesh/overlay.h"

#include <utility>

namespace loom::mesh {

class ImmediateOverlay::Forwarder final : public OverlayConnection {
 public:
  Forwarder(ImmediateOverlay& overlay, OverlayCallbacks callbacks)
      : overlay_(overlay), callbacks_(std::move(callbacks)) {}
  ~Forwarder() override { stop(); }

  void confirm() override {
    if (confirmed_ || stopped_) return;
    confirmed_ = true;
    timer_ = overlay_.host_.after(Time(0), [this] {
      timer_ = 0;
      if (callbacks_.established) callbacks_.established();
    });
  }
  void control_message(ByteView) override { ++overlay_.control_messages_; }
  void stop() override {
    stopped_ = true;
    overlay_.host_.cancel(timer_);
    timer_ = 0;
  }
  std::string attrs() const override { return "immediate"; }

 private:
  ImmediateOverlay& overlay_;
  OverlayCallbacks callbacks_;
  TimerId timer_ = 0;
  bool confirmed_ = false;
  bool stopped_ = false;
};

Result<std::unique_ptr<OverlayConnection>> ImmediateOverlay::prepare(OverlayConnectionParams,
                                                                     OverlayCallbacks callbacks) {
  ++prepared_;
  return std::unique_ptr<OverlayConnection>(
      std::make_unique<Forwarder>(*this, std::move(callbacks)));
}

OverlayStatus ImmediateOverlay::diagnostics() const {
  return OverlayStatus{"immediate",
                       {{"prepared", std::to_string(prepared_)},
                        {"control_messages", std::to_string(control_messages_)}}};
}

}  // namespace loom::mesh
