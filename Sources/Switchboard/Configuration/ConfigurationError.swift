/// A configuration that cannot be used, with the YAML path and what was expected there.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// Where, as `model_list[2].litellm_params.model`; empty for the file as a whole.
    public let path: String
    /// Line in the file, when known.
    public let line: Int?
    public let message: String

    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        let location = self.line.map { "line \($0): " } ?? ""
        return self.path.isEmpty ? "\(location)\(self.message)" : "\(location)\(self.path): \(self.message)"
    }
}
