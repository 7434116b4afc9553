import Foundation

/// Finds the Claude Code session a request belongs to, so one trace search shows a whole session.
enum SessionIdentifier {
    /// From `X-Claude-Code-Session-Id`, else `metadata.user_id`: the JSON form
    /// (`{"device_id":…,"session_id":…}`) or the older `user_<hash>_account_<uuid>_session_<uuid>`.
    static func find(header: String?, metadata: JSONValue?) -> String? {
        if let header, !header.isEmpty { return header }
        guard let userID = metadata?["user_id"]?.stringValue, !userID.isEmpty else { return nil }
        if userID.hasPrefix("{"), let object = try? JSONValue.parse(userID), let session = object["session_id"]?.stringValue,
            !session.isEmpty
        {
            return session
        }
        if let range = userID.range(of: "_session_", options: .backwards) {
            let session = String(userID[range.upperBound...])
            return session.isEmpty ? nil : session
        }
        return nil
    }
}
