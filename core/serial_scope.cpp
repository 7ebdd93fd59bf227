#include "core/serial_scope.h"

// Declared weak rather than taken from omp.h / mkl.h: the project is not built with -fopenmp
// and has no MKL headers. libtorch loads libgomp and (in the x86 wheel) exports MKL's service
// functions, so both resolve at load time; where a wheel lacks one, its pointer is null and
// that half of the scope does nothing. MKL_Set_Num_Threads_Local is the C entry point (the
// lower-case name is the Fortran one, which takes a pointer).
extern "C" {
void omp_set_num_threads(int) __attribute__((weak));
int omp_get_max_threads() __attribute__((weak));
int MKL_Set_Num_Threads_Local(int) __attribute__((weak));
}

namespace mg {

SerialScope::SerialScope() {
  if (omp_set_num_threads != nullptr && omp_get_max_threads != nullptr) {
    omp_threads_ = omp_get_max_threads();
    omp_set_num_threads(1);
  }
  if (MKL_Set_Num_Threads_Local != nullptr) mkl_threads_ = MKL_Set_Num_Threads_Local(1);
}

SerialScope::~SerialScope() {
  if (omp_threads_ > 0) omp_set_num_threads(omp_threads_);
  if (mkl_threads_ >= 0) MKL_Set_Num_Threads_Local(mkl_threads_);
}

}  // namespace mg
