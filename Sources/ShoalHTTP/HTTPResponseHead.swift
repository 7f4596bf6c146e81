public import HTTPTypes

extension HTTPResponse {
    /// The status line and header fields as HTTP/1.1 puts them on the wire, ending with
    /// the empty line: `HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n`.
    public func serializedHead(version: HTTPVersion = .http1_1) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + headerFields.count * 40)
        bytes += "\(version) \(status.code) \(status.reasonPhrase)\r\n".utf8
        for field in headerFields {
            bytes += field.name.rawName.utf8
            bytes += ": ".utf8
            bytes += field.value.utf8
            bytes += "\r\n".utf8
        }
        bytes += "\r\n".utf8
        return bytes
    }
}
