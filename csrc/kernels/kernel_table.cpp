#include "kernel_table.h"

#include "core/cpu.h"

namespace pynn {
namespace {

struct Tables {
  KernelTable generic, avx2, avx512;
  Tables() {
    fill_kernel_table_generic(&generic);
    fill_kernel_table_avx2(&avx2);
    fill_kernel_table_avx512(&avx512);
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

}  // namespace pynn
