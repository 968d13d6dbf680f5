// OpenBLAS: the CBLAS interface plus the thread-count controls (openblas_set_num_threads).
#include <cblas.h>
