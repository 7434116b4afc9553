import Logging
import ServiceLifecycle

/// Writes the keys' spend and the spend log every 100 ms while the gateway serves, and once more when it
/// stops (the server has drained by then, so every finished request is in). A `kill -9` loses at most the
/// last 100 ms.
public struct SpendFlushService: Service {
    let keys: KeyDirectory
    let logger: Logger
    let interval: Duration

    public init(keys: KeyDirectory, logger: Logger, interval: Duration = .milliseconds(100)) {
        self.keys = keys
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                self.flush()
            }
        }
        self.flush()
    }

    private func flush() {
        do {
            try self.keys.flush()
        } catch {
            // The batch stays pending; the next flush tries again.
            self.logger.error("could not write spend to the database", metadata: ["error": "\(error)"])
        }
    }
}
