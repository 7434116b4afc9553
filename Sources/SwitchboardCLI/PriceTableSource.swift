import Foundation
import Switchboard

/// Finds the price table: `switchboard.price_table` when set, else `config/prices.yaml` in the
/// working directory, beside the configuration file, or in the checkout the binary was built in.
struct PriceTableSource {
    let configuredPath: String?
    let configurationPath: String?

    var candidates: [String] {
        if let configuredPath { return [configuredPath] }
        var paths = ["config/prices.yaml"]
        if let configurationPath {
            paths.append(URL(fileURLWithPath: configurationPath).deletingLastPathComponent().appendingPathComponent("prices.yaml").path)
        }
        // .build/<configuration>/switchboard → the checkout's config/
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        paths.append(executable.deletingLastPathComponent().appendingPathComponent("../../config/prices.yaml").standardized.path)
        paths.append(executable.deletingLastPathComponent().appendingPathComponent("../../../config/prices.yaml").standardized.path)
        return paths
    }

    /// The table and the file it came from; an empty table and nil when none was found.
    func load() throws -> (PriceTable, String?) {
        for path in self.candidates where FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            do {
                return (try PriceTable(yaml: text), path)
            } catch let error as ConfigurationError {
                throw ConfigurationError(path: error.path, line: error.line, message: "\(path): \(error.message)")
            }
        }
        if let configuredPath {
            throw ConfigurationError(path: "switchboard.price_table", message: "no price table at \(configuredPath)")
        }
        return (PriceTable(), nil)
    }
}
