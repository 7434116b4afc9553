#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import ServiceLifecycle
import Switchboard
import UnixSignals

/// Reloads the configuration file on `SIGHUP` and when its contents change: reads and validates it in
/// full, then swaps it in at once; requests in flight finish on the configuration they started with. A
/// file that does not load is refused with a log line naming the YAML path, and the one in use stays.
struct ConfigurationWatcher: Service {
    let source: ConfigurationSource
    let environment: [String: String]
    let gateway: Gateway
    let logger: Logger
    /// How often the file is looked at for changes.
    var pollInterval: Duration = .seconds(1)

    /// The digest of what is loaded now, shared by the signal and the polling loop.
    private actor Loaded {
        var sha256: String
        init(sha256: String) { self.sha256 = sha256 }
        func update(_ sha256: String) { self.sha256 = sha256 }
    }

    func run() async throws {
        let loaded = Loaded(sha256: (try? self.source.contents.sha256) ?? "")
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    await self.reload(loaded, reason: "SIGHUP", force: true)
                }
            }
            group.addTask {
                // A stat per interval; the file is read and hashed only when its size, time or inode moved.
                var seen = FileStamp(path: self.source.path)
                while (try? await Task.sleep(for: self.pollInterval)) != nil {
                    let now = FileStamp(path: self.source.path)
                    guard now != seen else { continue }
                    seen = now
                    await self.reload(loaded, reason: "file changed", force: false)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Loads the file; `force` reloads even when it did not change (a SIGHUP re-reads `os.environ/` too).
    private func reload(_ loaded: Loaded, reason: String, force: Bool) async {
        let contents: (text: String, sha256: String)
        do {
            contents = try self.source.contents
        } catch {
            guard force else { return }  // a file caught mid-write or moved: the next look tells
            self.refuse(error, reason: reason)
            return
        }
        let current = await loaded.sha256
        guard force || contents.sha256 != current else { return }
        await loaded.update(contents.sha256)
        do {
            let result = try ConfigurationLoader(environment: self.environment).load(yaml: contents.text)
            for warning in result.warnings { self.logger.warning("configuration: \(warning)") }
            try await self.gateway.reload(result.configuration, sha256: contents.sha256)
            self.logger.notice(
                "configuration reloaded",
                metadata: [
                    "reason": "\(reason)", "sha256": "\(contents.sha256)",
                    "deployments": "\(result.configuration.deployments.count)",
                ]
            )
        } catch {
            self.refuse(error, reason: reason)
        }
    }

    private func refuse(_ error: any Error, reason: String) {
        self.gateway.reloadFailed()
        self.logger.error(
            "configuration reload refused; the configuration in use stays",
            metadata: ["reason": "\(reason)", "error": "\(error)", "path": "\(self.source.path ?? "embedded")"]
        )
    }
}

/// What `stat` says of a file, to notice a change without reading it: an editor's write, or a rename
/// over it (a new inode), as Kubernetes does for a mounted ConfigMap.
private struct FileStamp: Equatable {
    let inode: UInt64
    let size: Int64
    let modified: Int64
    let modifiedNanoseconds: Int64

    init(path: String?) {
        var info = stat()
        guard let path, stat(path, &info) == 0 else {
            (self.inode, self.size, self.modified, self.modifiedNanoseconds) = (0, -1, 0, 0)
            return
        }
        self.inode = UInt64(info.st_ino)
        self.size = Int64(info.st_size)
        #if canImport(Darwin)
        self.modified = Int64(info.st_mtimespec.tv_sec)
        self.modifiedNanoseconds = Int64(info.st_mtimespec.tv_nsec)
        #else
        self.modified = Int64(info.st_mtim.tv_sec)
        self.modifiedNanoseconds = Int64(info.st_mtim.tv_nsec)
        #endif
    }
}
