#ifndef METIS_FUZZER_DRIVER_H
#define METIS_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver with `callback` as the fuzz target. SwiftPM links
/// an executable's `main` to `<module>_main`; each fuzz target defines that
/// and calls this (libFuzzer's own `main` is then not linked).
int metis_fuzzer_run(int argc, char **argv, int (*callback)(const uint8_t *data, size_t size));
#endif
