// cpu.h: which SIMD instruction set the kernels use, chosen at run time.
//
// Note [ISA dispatch]
// The default build targets baseline x86-64. Kernels that profit from wider
// vectors are compiled once per ISA (generic, AVX2+FMA, AVX-512) in separate
// translation units and picked here. PYNN_CPU=generic|avx2|avx512 in the
// environment (read at first use) forces a path; asking for one the CPU lacks
// falls back to the best available one. set_cpu_isa() changes it at run time
// (the tests use it to cover every path).
#pragma once

namespace pynn {

enum class CpuIsa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

CpuIsa cpu_isa();                  // the ISA kernels use now
CpuIsa cpu_isa_supported();        // the best ISA this CPU (and OS) can run
void set_cpu_isa(CpuIsa isa);      // clamps to cpu_isa_supported()
const char* cpu_isa_name(CpuIsa isa);
bool cpu_isa_from_name(const char* name, CpuIsa* out);

}  // namespace pynn
