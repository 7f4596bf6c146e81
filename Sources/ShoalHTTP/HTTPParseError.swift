public import HTTPTypes

/// A request the parser refuses, with the status to answer it with and the reason.
///
/// After any of these the connection's framing is unknown: answer and close.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response status: 400, 414, 431, 501 or 505.
    public let status: HTTPResponse.Status
    /// What was wrong, for a log line or the response body.
    public let reason: String

    /// An error answered with `status`, for `reason`.
    public init(status: HTTPResponse.Status, reason: String) {
        self.status = status
        self.reason = reason
    }

    static func bad(_ reason: String) -> HTTPParseError { HTTPParseError(status: .badRequest, reason: reason) }

    /// `431 Request Header Fields Too Large: reason`.
    public var description: String { "\(status.code) \(status.reasonPhrase): \(reason)" }
}
