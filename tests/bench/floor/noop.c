/* Built with -static: the exec cost of any glibc program here (start-up included). */
int main(void) { return 0; }
