/* Built with -nostdlib -static: the exec cost without any libc start-up. */
.globl _start
_start:
  mov $60, %eax /* exit(0) */
  xor %edi, %edi
  syscall
