#pragma once
// SerialScope: while it lives, the torch operators this thread calls run on this thread alone.
//
// Inside at::parallel_for's body ATen's own operators already run serially, but a matrix
// product still goes to the BLAS (MKL in the PyPI wheel), which starts its own OpenMP team from
// the thread's OpenMP and MKL thread counts. For the small products of a decoding step that
// team costs more than it shares: on the 2-core machine of docs/results/benchmarks.md a B = 64
// step took ~1.4x as long with two threads as with one. The settings changed are the calling
// thread's own (OpenMP's nthreads-var, MKL's thread-local count), so other threads keep theirs,
// and the previous values come back when the scope ends.
namespace mg {

class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  int omp_threads_ = 0;  // 0: OpenMP's count was not changed
  int mkl_threads_ = -1;  // -1: MKL's count was not changed (0 is MKL's "follow the global count")
};

}  // namespace mg
