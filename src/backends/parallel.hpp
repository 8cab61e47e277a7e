// Work sharing with std::thread for the backends. Work is cut into items whose boundaries never depend on
// the thread count (a head and a fixed block of query rows), and each item is computed whole by one thread,
// so results are bit-identical whatever --threads is.
#pragma once

#include <functional>

namespace attnviz {

// `requested` threads, or the hardware's concurrency when 0 (at least 1).
int resolve_threads(int requested);

// Calls item(i) for every i in [0, count), on up to `threads` threads (the calling thread is one of them).
// Threads take the next item from a shared counter. The first exception thrown by an item is rethrown here
// after every thread has stopped.
void parallel_for(int count, int threads, const std::function<void(int)>& item);

}  // namespace attnviz
