// The power of the CPU cores a run uses, for the time x power energy estimate (what CodeCarbon
// and similar tools do where no meter is readable): the package's thermal design power (TDP)
// shared evenly over its physical cores, times the cores the run uses (one per interpreter
// thread). The CPU is recognised from /proc/cpuinfo's "model name" in kCpuPowerTable; a model
// not in the table (a cloud VM often hides its SKU: "Intel(R) Xeon(R) Processor") gets the
// median watts per core of the table. `--cpu-watts W` replaces all of this with the user's figure.
//
// TDP is a sustained-load design figure, not a measurement: the estimate is only as good as the
// assumption that the cores run near it, which a busy inference loop roughly does.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace qdet::bench {

struct CpuPowerRow {
  const char* model_contains;  // matched against /proc/cpuinfo "model name"
  double tdp_w;                // package TDP from the vendor's specification
  int cores;                   // physical cores per package
};

// The documented table (cpu_power.cpp), in the order rows are tried.
std::span<const CpuPowerRow> cpu_power_table();
// Median watts per core over the table: the figure for a model the table does not know.
double default_watts_per_core();

struct CpuPower {
  double watts = 0;           // power of the cores the run uses
  double watts_per_core = 0;
  int cores = 1;              // cores the run uses
  std::string cpu_model;      // /proc/cpuinfo "model name" ("" when unreadable)
  std::string basis;          // where the watts come from, in words
};

// `user_watts` > 0 (--cpu-watts): that power, whatever the CPU. Otherwise the table row for the
// model named in `cpuinfo`, or default_watts_per_core(). Errors only for bad arguments.
Result<CpuPower> cpu_power(const std::filesystem::path& cpuinfo, int cores, double user_watts);

// The "model name" field of a /proc/cpuinfo text ("" when absent).
std::string cpu_model_name(std::string_view cpuinfo_text);

}  // namespace qdet::bench
