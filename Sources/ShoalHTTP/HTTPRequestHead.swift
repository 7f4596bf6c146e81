public import HTTPTypes

/// An HTTP/1 version: 1.0 or 1.1.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version (1).
    public let major: Int
    /// The minor version (0 or 1).
    public let minor: Int

    /// HTTP/1.0 (named as SwiftNIO names it).
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// `"HTTP/1.1"`.
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A parsed request line and header section.
public struct HTTPRequestHead: Sendable {
    /// Method, authority (from `Host`), path (the request target) and header fields.
    public var request: HTTPRequest
    /// The version the client spoke.
    public var version: HTTPVersion
    /// Whether the connection stays open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool
    /// The body's length from `Content-Length` (0 without one); the body follows the head
    /// on the connection.
    public var contentLength: Int
}
