// OpenBLAS: the CBLAS interface plus the thread-count controls (openblas_set_num_threads), and
// the one LAPACK routine cnnctl calls, which libopenblas exports with Fortran linkage (Debian's
// libopenblas-dev ships no lapacke.h): ssyevd, eigenvalues and eigenvectors of a symmetric
// matrix by divide and conquer. The two trailing lengths are gfortran's hidden lengths of the
// character arguments.
#include <cblas.h>
#include <stddef.h>

void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);
