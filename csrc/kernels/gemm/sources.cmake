set(PYNN_GEMM_SOURCES
  ${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernels/gemm/gemm.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernels/gemm/gemm_generic.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernels/gemm/gemm_avx2.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/csrc/kernels/gemm/gemm_avx512.cpp)
