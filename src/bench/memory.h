#pragma once

#include <cstdint>

namespace qdet::bench {

// Peak resident set size of this process so far, in bytes (VmHWM from /proc/self/status, or
// getrusage's ru_maxrss when /proc is unavailable).
int64_t peak_rss_bytes();
// Current resident set size in bytes (0 when unknown).
int64_t current_rss_bytes();

}  // namespace qdet::bench
