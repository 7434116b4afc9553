import NIOCore

/// The head of an upstream response, and its body still arriving.
public struct UpstreamResponse: Sendable {
    public let status: Int
    public let headers: UpstreamHeaders
    /// `"1.1"` or `"2"`.
    public let httpVersion: String
    /// The body, in chunks as curl hands them over. Read it, or drop it to cancel the transfer.
    public let body: UpstreamBody

    /// Reads the whole body, failing once it exceeds `limit` bytes.
    public func collectBody(upTo limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in self.body {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw UpstreamError(kind: .other, message: "response body exceeds \(limit) bytes")
            }
            collected.writeBuffer(&chunk)
        }
        return collected
    }
}
