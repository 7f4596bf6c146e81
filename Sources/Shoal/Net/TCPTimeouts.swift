/// Time limits on a TCP connection's reads and writes, run by the reactor's timers.
///
/// Each is off (`nil`) by default. A limit costs nothing while data flows without
/// waiting: a timer is set only when a read or write must wait for the socket, and
/// removed when the wait ends. An expired limit throws ``TimeoutError`` from the read
/// or write that waited, naming the operation and the peer; the connection stays
/// open (close or abort it).
public struct TCPTimeouts: Sendable, Hashable {
    /// The longest a ``TCPConnection/read(into:)`` waits for data.
    public var read: Duration?
    /// The longest a `TCPConnection.write` waits for room in the socket's
    /// buffer: a peer that reads nothing for this long fails the write. Counted from the
    /// last progress, so a large write to a slow but live reader does not time out.
    public var write: Duration?
    /// The longest the connection may move no byte in either direction: a read or
    /// write waiting when it passes fails.
    public var idle: Duration?

    /// Limits as given; `nil` is no limit.
    public init(read: Duration? = nil, write: Duration? = nil, idle: Duration? = nil) {
        self.read = read
        self.write = write
        self.idle = idle
    }

    /// No limits.
    public static let none = TCPTimeouts()

    /// Whether any limit is set.
    var any: Bool { read != nil || write != nil || idle != nil }
}

/// How a TCP connection is set up.
public struct TCPOptions: Sendable, Hashable {
    /// `TCP_NODELAY`: send small writes at once instead of waiting to coalesce them
    /// (Nagle's algorithm). On by default, as request/response protocols want.
    public var noDelay: Bool
    /// Read, write and idle limits.
    public var timeouts: TCPTimeouts

    /// Options as given; the defaults are `TCP_NODELAY` on and no time limits.
    public init(noDelay: Bool = true, timeouts: TCPTimeouts = .none) {
        self.noDelay = noDelay
        self.timeouts = timeouts
    }
}
