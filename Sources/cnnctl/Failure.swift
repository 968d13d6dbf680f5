import ArgumentParser
import CNNConfig
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses: 2 for a bad config (as compilers do for bad input), 1 for other failures
/// (missing or corrupt data and checkpoint files, a diverged run).
enum Failure {
    static let badConfig: Int32 = 2

    /// Runs `body`; a config error is printed as `error: FILE: PLACE: MESSAGE` on stderr and
    /// ends the process with status 2; any other error is printed the same way with status 1
    /// (no stack trace, no trap).
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ConfigError {
            printError("error: \(error)")
            throw ExitCode(badConfig)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    static func printError(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
