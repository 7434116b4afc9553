import Foundation
import Switchboard

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
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(path: "", message: "cannot read \(path): \(error.localizedDescription)")
        }
        return (try loader.load(yaml: text), nil)
    }
}
