#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import Synchronization

/// The system's cryptographic randomness, fetched 256 bytes at a time.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` system call per 64-bit word, and a request
/// draws seven (trace, span and message ids). The bytes are the same kernel CSPRNG output; only the
/// calls are fewer.
public struct PooledRandomGenerator: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        Self.pool.withLock { $0.next() }
    }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        private var words = [UInt64](repeating: 0, count: 32)
        private var used = 32

        mutating func next() -> UInt64 {
            if self.used == self.words.count { self.refill() }
            defer { self.used += 1 }
            return self.words[self.used]
        }

        private mutating func refill() {
            // getentropy: the kernel's CSPRNG (getrandom on Linux), at most 256 bytes per call.
            let status = self.words.withUnsafeMutableBytes { getentropy($0.baseAddress!, $0.count) }
            precondition(status == 0, "the system has no source of randomness")
            self.used = 0
        }
    }
}
