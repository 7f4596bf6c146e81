import ExampleSupport
import ShoalHTTP

/// The server's counters, kept on the reactor thread; printed at shutdown.
final class Counters: @unchecked Sendable {
    var connections = 0
    var requests = 0
    var bytes = 0
    var malformed = 0
    var timeouts = 0
    /// A signal came: responses say `Connection: close`, and no connection waits for
    /// another request.
    var draining = false

    /// One access-log line, when `enabled`: `peer "METHOD /path HTTP/1.1" status bytes`.
    func log(_ enabled: Bool, peer: String, head: HTTPRequestHead?, status: Int, bytes: Int) {
        guard enabled else { return }
        let request = head.map { "\($0.request.method) \($0.request.path ?? "") \($0.version)" } ?? "-"
        printNow("\(peer) \"\(request)\" \(status) \(bytes)\n")
    }

    var summary: String {
        "connections \(connections), requests \(requests), bytes sent \(bytes), malformed \(malformed), timeouts \(timeouts)"
    }
}
