// The event queue Loom's simulations run on: sim::World's, and the bare-ns-3
// bench's so that its ratio compares like with like. Include only from
// C++17 files (ns-3's headers).
#pragma once

#include <ns3/object-factory.h>
#include <ns3/simulator.h>

namespace loom::sim {

// ns-3's default queue is a std::map. A thousand hosts keep hundreds of
// thousands of events pending, and a binary heap (std::priority_queue) runs
// mesh-1000's first 2.5 virtual seconds some 12 % faster. Every scheduler
// orders events by (time, insertion uid), so runs stay byte-identical.
inline void use_heap_scheduler() {
  ns3::ObjectFactory scheduler;
  scheduler.SetTypeId("ns3::PriorityQueueScheduler");
  ns3::Simulator::SetScheduler(scheduler);
}

}  // namespace loom::sim
