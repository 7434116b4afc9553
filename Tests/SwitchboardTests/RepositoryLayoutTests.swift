import Foundation
import Testing

@Suite("repository layout")
struct RepositoryLayoutTests {
    /// Most Claude Code users are on Macs, whose file system ignores case: two paths that differ only by
    /// case (`Sources/Switchboard` and `Sources/switchboard`) become one folder there and the package
    /// does not build.
    @Test("no two paths in the repository differ only by case")
    func caseInsensitiveUnique() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var seen: [String: String] = [:]
        var clashes: [String] = []
        let top = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".build") && $0 != ".git" }
        for name in top {
            seen[name.lowercased()].map { clashes.append("\($0) / \(name)") }
            seen[name.lowercased()] = name
            let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent(name).path)
            while let path = enumerator?.nextObject() as? String {
                let full = "\(name)/\(path)"
                if let other = seen[full.lowercased()], other != full { clashes.append("\(other) / \(full)") }
                seen[full.lowercased()] = full
            }
        }
        #expect(clashes.isEmpty, "\(clashes)")
    }
}
