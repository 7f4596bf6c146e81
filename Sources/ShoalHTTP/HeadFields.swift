import HTTPTypes

/// The parsing of a complete head: request line, fields, and what they imply.
enum HeadFields {
    static func parse(_ head: UnsafeRawBufferPointer, parser: HTTPRequestParser) throws(HTTPParseError) -> HTTPRequestHead {
        var lines = split(head)
        let requestLine = lines.removeFirst()
        if requestLine.count > parser.maximumRequestLine {
            throw HTTPParseError(status: .uriTooLong, reason: "the request line is longer than \(parser.maximumRequestLine) bytes")
        }
        if lines.count > parser.maximumFieldCount {
            throw HTTPParseError(
                status: .requestHeaderFieldsTooLarge, reason: "more than \(parser.maximumFieldCount) header fields")
        }
        let (method, target, version) = try RequestLine.parse(requestLine)
        var fields = HTTPFields()
        for line in lines { fields.append(try field(line)) }
        return try interpret(method: method, target: target, version: version, fields: fields)
    }

    /// The lines of a head (CRLF-separated; bare CR and LF were refused while scanning).
    private static func split(_ head: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
        var lines: [UnsafeRawBufferPointer] = []
        var lineStart = 0
        var index = 0
        while index < head.count {
            if head[index] == .cr {
                lines.append(UnsafeRawBufferPointer(rebasing: head[lineStart..<index]))
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        lines.append(UnsafeRawBufferPointer(rebasing: head[lineStart..<head.count]))
        return lines
    }

    /// One `name: value` line.
    private static func field(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPField {
        guard let first = line.first else { throw .bad("an empty header line") }
        if first == .space || first == .tab { throw .bad("a folded header line (obs-fold)") }
        guard let colon = line.firstIndex(of: .colon) else { throw .bad("a header line without a colon") }
        let nameBytes = line[..<colon]
        guard !nameBytes.isEmpty, nameBytes.allSatisfy(Token.isTokenByte) else {
            let shown = String(decoding: nameBytes.prefix(64), as: UTF8.self)
            throw .bad(
                "an invalid header field name \"\(shown)\""
                    + (nameBytes.last == .space || nameBytes.last == .tab ? " (whitespace before the colon)" : ""))
        }
        var value = line[(colon + 1)...]
        while let byte = value.first, byte == .space || byte == .tab { value = value.dropFirst() }
        while let byte = value.last, byte == .space || byte == .tab { value = value.dropLast() }
        guard value.allSatisfy({ $0 == .tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw .bad("a control character in the value of \(String(decoding: nameBytes, as: UTF8.self))")
        }
        guard let name = HTTPField.Name(String(decoding: nameBytes, as: UTF8.self)) else {
            throw .bad("an invalid header field name")
        }
        return HTTPField(name: name, value: Array(value))
    }

    /// Host, framing and persistence, from the fields.
    private static func interpret(
        method: HTTPRequest.Method, target: RequestLine.Target, version: HTTPVersion, fields: HTTPFields
    ) throws(HTTPParseError) -> HTTPRequestHead {
        let hosts = fields[values: hostName]
        if version == .http1_1 && hosts.count != 1 {
            throw .bad(hosts.isEmpty ? "an HTTP/1.1 request without Host" : "more than one Host field")
        }
        if hosts.count > 1 { throw .bad("more than one Host field") }
        if let host = hosts.first, !Token.isHost(host) { throw .bad("an invalid Host \"\(host.prefix(64))\"") }
        if !fields[values: .transferEncoding].isEmpty {
            if !fields[values: .contentLength].isEmpty { throw .bad("both Transfer-Encoding and Content-Length") }
            throw HTTPParseError(status: .notImplemented, reason: "request bodies with Transfer-Encoding are not supported")
        }
        let contentLength = try length(fields[values: .contentLength])
        let connection = fields[values: .connection].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces.lowercased() }
        let keepAlive =
            version == .http1_1 ? !connection.contains("close") : connection.contains("keep-alive") && !connection.contains("close")
        // Host becomes the request's authority, as in HTTP/2 and swift-http-types.
        var fields = fields
        fields[hostName] = nil
        let authority = target.authority ?? hosts.first
        let request = HTTPRequest(method: method, scheme: nil, authority: authority, path: target.path, headerFields: fields)
        return HTTPRequestHead(request: request, version: version, keepAlive: keepAlive, contentLength: contentLength)
    }

    /// `Host`: swift-http-types keeps it out of its named fields (it is the authority).
    private static let hostName = HTTPField.Name("Host")!

    /// The body length from the Content-Length values: all equal, decimal digits only.
    private static func length(_ values: [String]) throws(HTTPParseError) -> Int {
        let all = values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map(\.trimmingSpaces)
        guard let first = all.first else { return 0 }
        guard all.allSatisfy({ $0 == first }) else { throw .bad("Content-Length values differ") }
        guard !first.isEmpty, first.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            first.count <= 18, let length = Int(first)
        else { throw .bad("an invalid Content-Length \"\(first.prefix(32))\"") }
        return length
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace, OWS).
    public var trimmingSpaces: String {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
