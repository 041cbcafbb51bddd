/* Prints the cost of one CPUID instruction in microseconds. glibc's start-up loops on CPUID leaf 4
   (cache detection); on a VM that traps CPUID to the hypervisor that loop is most of its cost. */
#include <cpuid.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  enum { kRounds = 1000 };
  struct timespec a, b;
  unsigned eax, ebx, ecx, edx, sink = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < kRounds; i++) {
    __cpuid_count(4, 0, eax, ebx, ecx, edx);
    sink += eax;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("%.2f\n", ns / kRounds / 1000.0 + 0.0 * sink);
  return 0;
}
