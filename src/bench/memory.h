#pragma once

#include <cstdint>

namespace qdet::bench {

// Peak resident set size of this process so far, in bytes (VmHWM from /proc/self/status, or
// getrusage's ru_maxrss when /proc is unavailable).
int64_t peak_rss_bytes();
// Resets the peak to the current RSS (Linux >= 4.0: "5" to /proc/self/clear_refs); false when
// the kernel does not allow it, and the peak then covers the whole process so far.
bool reset_peak_rss();
// Current resident set size in bytes (0 when unknown).
int64_t current_rss_bytes();

}  // namespace qdet::bench
