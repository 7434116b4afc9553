import Foundation

/// The gcloud CLI's active configuration, read for its `[core] project`: what google-auth asks
/// `gcloud config get project` for when nothing else names a project.
///
/// The configuration directory is `$CLOUDSDK_CONFIG`, else `~/.config/gcloud`; its `active_config` file
/// names the configuration (`default` when missing), kept in `configurations/config_<name>` as INI.
struct GcloudConfiguration {
    let path: String
    let project: String?

    init?(environment: [String: String]) {
        let directory: String
        if let configured = environment["CLOUDSDK_CONFIG"], !configured.isEmpty {
            directory = configured
        } else if let home = environment["HOME"], !home.isEmpty {
            directory = "\(home)/.config/gcloud"
        } else {
            return nil
        }
        let active = (try? String(contentsOfFile: "\(directory)/active_config", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let name = active.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let path = "\(directory)/configurations/config_\(name)"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        self.path = path
        self.project = Self.value(of: "project", inSection: "core", of: text)
    }

    private static func value(of key: String, inSection wanted: String, of ini: String) -> String? {
        var section = ""
        for line in ini.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") {
                section = String(trimmed.dropFirst().dropLast())
            } else if section == wanted, let equals = trimmed.firstIndex(of: "=") {
                let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
                let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                if name == key, !value.isEmpty { return value }
            }
        }
        return nil
    }
}
