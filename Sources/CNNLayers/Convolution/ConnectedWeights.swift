import CNNCore

/// A connection table's weights (LeNet-5's C3, LeCun et al. 1998, Table I): the layer stores
/// only the kernels of the connected (filter, input map) pairs, `[connections, kh, kw]`, in
/// table order; the algorithms read a dense masked `[F, C·kh·kw]` matrix, scattered from them on
/// every call, and the dense gradient is gathered back into the compact one.
final class ConnectedWeights {
    /// For each filter, the input maps it sees.
    let table: [[Int]]
    let kernelArea: Int, rowLength: Int
    /// Dense `[F, C·kh·kw]` weights and their gradient.
    let dense: DeferredBuffer, denseGradient: DeferredBuffer

    init(_ table: [[Int]], geometry g: WindowGeometry) {
        self.table = table
        kernelArea = g.kernelArea
        rowLength = g.columnRows
        dense = DeferredBuffer(count: table.count * g.columnRows)
        denseGradient = DeferredBuffer(count: table.count * g.columnRows)
    }

    var connections: Int { table.reduce(0) { $0 + $1.count } }

    /// The compact weights scattered into `dense`, zeros where a filter does not see a map.
    func scatter(_ compact: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
        dense.zero()
        var k = 0
        for (f, maps) in table.enumerated() {
            for c in maps {
                (dense.data + f * rowLength + c * kernelArea).update(from: compact + k * kernelArea, count: kernelArea)
                k += 1
            }
        }
        return dense.data
    }

    /// Adds the connected kernels' gradients from `denseGradient` into the compact gradient.
    func gather(into compact: UnsafeMutablePointer<Float>) {
        let area = kernelArea, dense = denseGradient.data
        var k = 0
        for (f, maps) in table.enumerated() {
            for c in maps {
                for i in 0..<area { compact[k * area + i] += dense[f * rowLength + c * area + i] }
                k += 1
            }
        }
    }
}
