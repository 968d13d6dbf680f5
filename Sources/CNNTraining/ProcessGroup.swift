/// The processes of a data-parallel run (`mpirun -np N cnnctl train`): each holds the whole
/// model and trains on its share of every batch, and these collectives keep them in step. The
/// training code sees only this protocol; `CNNDistributed` implements it over MPI, so nothing else
/// imports MPI. Every call is collective: all processes make it, in the same order, with the same
/// counts. A failing collective does not return (the implementation aborts the job with a message).
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's index, 0 for the one that writes the run directory.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Sums `count` floats over the processes, in place on every process.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Sums doubles over the processes, in place on every process.
    func allreduceSum(_ values: inout [Double])
    /// The largest of `value` over the processes.
    func allreduceMax(_ value: Double) -> Double
    /// Rank 0's `count` floats, copied into every process's buffer.
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Returns when every process has called it.
    func barrier()
    /// Seconds spent in `allreduceSum` of floats (the gradients) so far, for the step report.
    var allreduceSeconds: Double { get }
}

extension ProcessGroup {
    /// Whether `flag` holds on any process.
    public func any(_ flag: Bool) -> Bool { allreduceMax(flag ? 1 : 0) > 0 }
}
