import CMPI
import CNNTraining
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `ProcessGroup` over MPI's world communicator, when cnnctl runs under an MPI launcher. Only the
/// training thread uses it (hence `@unchecked Sendable`: MPI is initialized for one calling thread).
///
/// MPI is initialized with `MPI_THREAD_FUNNELED`: only the thread that trains calls MPI (the
/// worker pool's threads never do). Errors return (`MPI_ERRORS_RETURN`) so that a failed
/// collective becomes `MPI_Abort` with a message naming the rank and the call, which ends every
/// process of the job instead of leaving the others waiting in a collective forever.
public final class MPIGroup: ProcessGroup, @unchecked Sendable {
    public let rank: Int
    public let size: Int

    /// Whether the environment says a launcher started this process as one of several: Open
    /// MPI's `OMPI_COMM_WORLD_SIZE`, PMI's `PMI_SIZE` (MPICH's Hydra, Slurm's `srun --mpi=pmi2`),
    /// PMIx's `PMIX_RANK` (`srun --mpi=pmix`). Without one, cnnctl runs as a single process and
    /// never initializes MPI.
    public static var launched: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMI_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// Initializes MPI; the group of all processes of the job.
    public init() throws {
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, cnn_mpi_thread_funneled(), &provided) == cnn_mpi_success() else {
            throw RunError("MPI_Init_thread failed")
        }
        guard provided >= cnn_mpi_thread_funneled() else {
            throw RunError("the MPI library provides thread level \(provided), below MPI_THREAD_FUNNELED")
        }
        MPI_Comm_set_errhandler(cnn_mpi_comm_world(), cnn_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(cnn_mpi_comm_world(), &r)
        MPI_Comm_size(cnn_mpi_comm_world(), &s)
        rank = Int(r)
        size = Int(s)
    }

    /// Ends MPI after a run that completed on every process.
    public func finish() { MPI_Finalize() }

    /// Ends the whole job: this rank's message on stderr, then `MPI_Abort`.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("error: rank \(rank) of \(size): \(message)\n".utf8))
        MPI_Abort(cnn_mpi_comm_world(), code)
        exit(code)
    }

    private func check(_ status: Int32, _ call: String) {
        if status != cnn_mpi_success() {
            var length: Int32 = 0
            var text = [CChar](repeating: 0, count: 512)
            MPI_Error_string(status, &text, &length)
            abort("\(call) failed: \(String(cString: text))")
        }
    }

    /// MPI counts are Int32: `body(offset, n)` over chunks of at most 2³⁰ values.
    private func forEachChunk(_ count: Int, _ body: (Int, Int32) -> Void) {
        var offset = 0
        while offset < count {
            let n = min(count - offset, 1 << 30)
            body(offset, Int32(n))
            offset += n
        }
    }

    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count) { offset, n in
            check(MPI_Allreduce(cnn_mpi_in_place(), buffer + offset, n, cnn_mpi_float(), cnn_mpi_sum(),
                                cnn_mpi_comm_world()), "MPI_Allreduce of the gradients")
        }
    }

    public func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int) {
        check(MPI_Allreduce(cnn_mpi_in_place(), values, Int32(count), cnn_mpi_double(), cnn_mpi_sum(),
                            cnn_mpi_comm_world()), "MPI_Allreduce of statistics")
    }

    public func allreduceMax(_ value: Double) -> Double {
        var v = value
        check(MPI_Allreduce(cnn_mpi_in_place(), &v, 1, cnn_mpi_double(), cnn_mpi_max(), cnn_mpi_comm_world()),
              "MPI_Allreduce of a flag")
        return v
    }

    public func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        forEachChunk(count) { offset, n in
            check(MPI_Bcast(buffer + offset, n, cnn_mpi_float(), 0, cnn_mpi_comm_world()), "MPI_Bcast of the weights")
        }
    }

    public func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int) {
        check(MPI_Bcast(values, Int32(count), cnn_mpi_double(), 0, cnn_mpi_comm_world()), "MPI_Bcast of the metrics")
    }

    public func barrier() { check(MPI_Barrier(cnn_mpi_comm_world()), "MPI_Barrier") }
}
