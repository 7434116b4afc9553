import Foundation
import Switchboard
import Telemetry

/// Where the configuration comes from: a file, or the embedded default.
struct ConfigurationSource {
    let path: String?

    /// The loaded configuration and what to tell the user about it.
    func load(environment: [String: String]) throws -> (ConfigurationLoader.Result, notice: String?) {
        let loader = ConfigurationLoader(environment: environment)
        guard let path = self.path else {
            let result = try loader.load(yaml: EmbeddedDefaultConfiguration.yaml(environment: environment))
            return (result, EmbeddedDefaultConfiguration.notice(environment: environment))
        }
        return (try loader.load(yaml: try Self.read(path).text), nil)
    }

    /// The text to load and its SHA-256, as `sha256sum` prints it.
    var contents: (text: String, sha256: String) {
        get throws {
            guard let path = self.path else {
                let text = EmbeddedDefaultConfiguration.yaml(environment: [:])
                return (text, SHA256.hex(of: Array(text.utf8)))
            }
            return try Self.read(path)
        }
    }

    private static func read(_ path: String) throws -> (text: String, sha256: String) {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(path: "", message: "\(path) is not UTF-8 text")
            }
            return (text, SHA256.hex(of: data))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(path: "", message: "cannot read \(path): \(error.localizedDescription)")
        }
    }
}
