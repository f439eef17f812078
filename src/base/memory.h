// The memory budget: the most that sizes read from files (tensor shapes, image headers, ...) and
// the interpreter's arena may ask for in one allocation. A file that asks for more is an error
// naming what was too big, never an allocation failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace qdet {

// Total physical memory of the machine (0 when the OS does not say).
uint64_t physical_memory_bytes();

// set_memory_budget()'s value, else half the machine's physical memory (4 GiB when unknown).
uint64_t memory_budget();
void set_memory_budget(uint64_t bytes);

// "512M", "2G", "1.5GiB", "4096", "64k": binary units (K = 1024). nullopt when malformed or 0.
std::optional<uint64_t> parse_byte_size(std::string_view text);
// "1.5 GiB", "12.0 MiB", "300 B".
std::string format_bytes(uint64_t bytes);

// An out_of_range error when `bytes` is over memory_budget(): "{what} needs X, over the memory
// budget of Y (--max-memory)".
Status check_memory_budget(uint64_t bytes, std::string_view what);

}  // namespace qdet
