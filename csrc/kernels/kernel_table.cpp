#include "kernel_table.h"

#include "core/cpu.h"

namespace pynn {
namespace {

// Only the tables of ISAs this CPU can run are filled: a fill function is
// compiled with its ISA's flags, so the compiler may use that ISA's registers
// even to store the function pointers (AVX-512 stores raised SIGILL on Zen 3).
// An unfilled table is never read: cpu_isa() never exceeds cpu_isa_supported().
struct Tables {
  KernelTable generic{}, avx2{}, avx512{};
  Tables() {
    fill_kernel_table_generic(&generic);
    CpuIsa best = cpu_isa_supported();
    if (best >= CpuIsa::Avx2) fill_kernel_table_avx2(&avx2);
    if (best >= CpuIsa::Avx512) fill_kernel_table_avx512(&avx512);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const KernelTable& kernels() {
  switch (cpu_isa()) {
    case CpuIsa::Avx512: return tables().avx512;
    case CpuIsa::Avx2: return tables().avx2;
    default: return tables().generic;
  }
}

const char* binary_op_name(BinaryOp op) {
  // Errors name the public function: users reach bce_logits only through it.
  if (op == BinaryOp::bce_logits || op == BinaryOp::bce_logits_grad) return "sigmoid_binary_cross_entropy";
  static const char* names[] = {
#define PYNN_NAME_ENTRY(name) #name,
      PYNN_BINARY_OPS(PYNN_NAME_ENTRY)
#undef PYNN_NAME_ENTRY
  };
  return names[static_cast<int>(op)];
}

const char* unary_op_name(UnaryOp op) {
  static const char* names[] = {
#define PYNN_NAME_ENTRY(name) #name,
      PYNN_UNARY_OPS(PYNN_NAME_ENTRY)
#undef PYNN_NAME_ENTRY
  };
  return names[static_cast<int>(op)];
}

const char* act_op_name(ActOp op) {
  static const char* names[] = {
#define PYNN_NAME_ENTRY(name) #name,
      PYNN_ACTIVATIONS(PYNN_NAME_ENTRY)
#undef PYNN_NAME_ENTRY
  };
  return names[static_cast<int>(op)];
}

}  // namespace pynn
