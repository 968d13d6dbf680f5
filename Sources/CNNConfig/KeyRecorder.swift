/// Collects the top-level keys a config entry's decoders ask for, in the order asked, so that
/// a test can hold each registration's documented keys (`ConfigKey`) to what its code reads.
public final class KeyRecorder {
    public private(set) var keys: [String] = []

    public init() {}

    public func record(_ asked: some Sequence<String>) {
        for key in asked where !keys.contains(key) { keys.append(key) }
    }
}
