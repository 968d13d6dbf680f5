// MPI for cnnctl's data-parallel training (Sources/CNNDistributed only). MPI_COMM_WORLD,
// MPI_FLOAT, MPI_DOUBLE, MPI_SUM, MPI_MAX and MPI_IN_PLACE are macros Swift cannot import —
// Open MPI's expand to addresses of its predefined objects, MPICH's to integer constants — so
// tiny inline getters return them as the handle types, which works with either library's header.
#include <mpi.h>

static inline MPI_Comm cnn_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cnn_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cnn_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op cnn_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cnn_mpi_max(void) { return MPI_MAX; }
static inline void *cnn_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int cnn_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline int cnn_mpi_success(void) { return MPI_SUCCESS; }
static inline MPI_Errhandler cnn_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
