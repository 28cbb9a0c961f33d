/* A shared library without ferry's entry point: the host must refuse it. */
__attribute__((visibility("default"))) int unrelated_function(void) {
  return 42;
}
