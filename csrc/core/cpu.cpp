#include "cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace pynn {
namespace {

CpuIsa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // __builtin_cpu_supports checks the OS has enabled the wider registers (XGETBV).
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma"))
    return CpuIsa::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CpuIsa::Avx2;
#endif
  return CpuIsa::Generic;
}

CpuIsa initial() {
  CpuIsa best = detect();
  const char* env = std::getenv("PYNN_CPU");
  CpuIsa want;
  if (env && *env && cpu_isa_from_name(env, &want)) return want < best ? want : best;
  return best;
}

std::atomic<int>& current() {
  static std::atomic<int> isa{static_cast<int>(initial())};
  return isa;
}

}  // namespace

CpuIsa cpu_isa_supported() {
  static const CpuIsa best = detect();
  return best;
}

CpuIsa cpu_isa() { return static_cast<CpuIsa>(current().load(std::memory_order_relaxed)); }

void set_cpu_isa(CpuIsa isa) {
  CpuIsa best = cpu_isa_supported();
  current().store(static_cast<int>(isa < best ? isa : best));
}

const char* cpu_isa_name(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return "avx512";
    case CpuIsa::Avx2: return "avx2";
    default: return "generic";
  }
}

bool cpu_isa_from_name(const char* name, CpuIsa* out) {
  if (!std::strcmp(name, "generic")) { *out = CpuIsa::Generic; return true; }
  if (!std::strcmp(name, "avx2")) { *out = CpuIsa::Avx2; return true; }
  if (!std::strcmp(name, "avx512")) { *out = CpuIsa::Avx512; return true; }
  return false;
}

}  // namespace pynn
