import CNNTraining
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shows training progress: a redrawn one-line bar on a terminal, plain periodic lines in logs
/// and pipes (CI), so neither gets the other's noise. Lines are written unbuffered, so a log
/// being followed (or a CI console) sees them as they happen.
final class ProgressReporter: TrainingObserver {
    let terminal: Bool
    private var lastDraw = Date.distantPast
    private var lastPlainBatch = 0
    private var epochs = 0

    init(terminal: Bool) { self.terminal = terminal }

    func log(_ line: String) {
        clearBar()
        Self.emit(line)
    }

    /// Writes a line to standard output at once.
    static func emit(_ line: String) { write(line + "\n") }

    /// Standard output is a courtesy copy of what `log.txt` records, so a write that fails (a
    /// closed pipe, a full disk) is dropped instead of stopping the run (Foundation's
    /// `FileHandle.write` traps on one).
    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    func progress(_ p: StepProgress) {
        epochs = p.epochs
        if terminal {
            guard p.batch == p.batches || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            let width = 24, done = width * p.batch / max(p.batches, 1)
            let bar = String(repeating: "=", count: done) + (done < width ? ">" : "")
                + String(repeating: " ", count: max(0, width - done - 1))
            let line = String(format: "epoch %d/%d [%@] %d/%d  loss %.4f  acc %.2f%%  %.0f img/s  ETA %@",
                              p.epoch, p.epochs, bar, p.batch, p.batches, p.loss, 100 * p.accuracy,
                              p.imagesPerSecond, Self.duration(p.etaSeconds))
            Self.write("\r" + line + "\u{1B}[K")
        } else {
            // About ten lines per epoch.
            let every = max(1, p.batches / 10)
            guard p.batch % every == 0 && p.batch != p.batches && p.batch != lastPlainBatch else { return }
            lastPlainBatch = p.batch
            Self.emit(String(format: "epoch %d/%d batch %d/%d loss %.4f acc %.2f%% %.0f img/s lr %.5g eta %@",
                         p.epoch, p.epochs, p.batch, p.batches, p.loss, 100 * p.accuracy, p.imagesPerSecond,
                         Double(p.lr), Self.duration(p.etaSeconds)))
        }
    }

    func epochFinished(_ record: EpochRecord) {
        clearBar()
        Self.emit(EpochLine.format(record, epochs: max(epochs, record.epoch)))
        lastPlainBatch = 0
    }

    private func clearBar() {
        if terminal { Self.write("\r\u{1B}[K") }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, (0..<1e9).contains(seconds) else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }
}
