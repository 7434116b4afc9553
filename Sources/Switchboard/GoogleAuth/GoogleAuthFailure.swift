/// Why a token could not be had, before it becomes the client's 401: a bounded `errorType` for spans, and a
/// `detail` for people that has already had every secret the exchange carried taken out.
struct GoogleAuthFailure: Error, Sendable {
    /// `http_400`, a transport kind such as `timeout`, `malformed_response`, `subject_token` or `invalid_key`.
    var errorType: String
    var detail: String
}
