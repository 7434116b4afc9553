import Foundation

/// The one JSON encoder the gateway writes with: compact, slashes unescaped. Built once; encoders
/// are not free to make on every event and response.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
}
