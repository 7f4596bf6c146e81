/// What a shoal-httpd serves and its limits.
struct ServerConfiguration: Sendable {
    /// The document root: a real path, no trailing slash.
    var root: String
    /// How long a kept-alive connection may wait for its next request.
    var idleTimeout: Duration
    /// How long a client may take to send a whole request head, from its first byte.
    var headerTimeout: Duration
    /// How long a write may wait for the client to make room.
    var writeTimeout: Duration
    /// One line per request on standard output, when set.
    var accessLog: AccessLog?
    /// Bytes of file blocks kept in memory (0: none).
    var cacheSize: Int
    /// Whether `GET /metrics` answers with the Prometheus text format.
    var metrics = false
    /// Open files kept at most (an eighth of the descriptors, at most 256: the rest are
    /// for connections).
    var openFileLimit = 256
}
