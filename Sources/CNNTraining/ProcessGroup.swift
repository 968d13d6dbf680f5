import CNNLayers

/// The processes of a data-parallel run (`mpirun -np N cnnctl train`): each holds the whole
/// model and trains on its share of every batch, and these collectives keep them in step. The
/// training code sees only this protocol; `CNNDistributed` implements it over MPI, so nothing else
/// imports MPI. Every call is collective: all processes make it, in the same order, with the same
/// counts. A failing collective does not return (the implementation aborts the job with a message).
///
/// A group is also the `StatisticsReducer` synchronized batch norm sums its statistics with.
public protocol ProcessGroup: StatisticsReducer, Sendable {
    /// This process's index, 0 for the one that writes the run directory.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Sums `count` floats over the processes, in place on every process.
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Sums `count` doubles over the processes, in place on every process.
    func allreduceSum(_ values: UnsafeMutablePointer<Double>, count: Int)
    /// The largest of `value` over the processes.
    func allreduceMax(_ value: Double) -> Double
    /// Rank 0's `count` floats, copied into every process's buffer.
    func broadcast(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Rank 0's `count` doubles, copied into every process's buffer.
    func broadcast(_ values: UnsafeMutablePointer<Double>, count: Int)
}

extension ProcessGroup {
    /// Whether this process writes the run directory.
    public var isRoot: Bool { rank == 0 }

    public func sum(_ values: UnsafeMutablePointer<Double>, count: Int) { allreduceSum(values, count: count) }

    /// Whether `flag` holds on any process.
    public func any(_ flag: Bool) -> Bool { allreduceMax(flag ? 1 : 0) > 0 }

    public func allreduceSum(_ values: inout [Double]) {
        let count = values.count
        values.withUnsafeMutableBufferPointer { allreduceSum($0.baseAddress!, count: count) }
    }
}
