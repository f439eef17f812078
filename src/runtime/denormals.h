// XNNPACK runs its operators with denormals off (pthreadpool's DISABLE_DENORMALS: MXCSR's
// flush-to-zero and denormals-are-zero bits), so its float ops read a subnormal as a zero of the
// same sign and write a subnormal result as zero. qdet code that must give the bytes of an
// XNNPACK operator (a fusion standing for one) runs that arithmetic inside a DenormalsOff scope.
// The mode is per thread: set it in each task.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace qdet::rt {

class DenormalsOff {
 public:
#if defined(__x86_64__) || defined(__i386__)
  DenormalsOff() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
  ~DenormalsOff() { _mm_setcsr(saved_); }
  DenormalsOff(const DenormalsOff&) = delete;
  DenormalsOff& operator=(const DenormalsOff&) = delete;

 private:
  unsigned saved_;
#endif
};

}  // namespace qdet::rt
