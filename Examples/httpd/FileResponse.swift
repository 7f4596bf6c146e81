import HTTPTypes
import Shoal
import ShoalHTTP

#if canImport(Glibc)
import Glibc
#endif

/// What to send for a GET or HEAD of an open file: the response head, and the byte
/// range of the file that is its body (empty for 304 and 416).
struct FileResponse {
    var response: HTTPResponse
    var body: Range<Int64>

    /// What a response says about a file's current contents, worked out once per open
    /// file (``FileCache`` keeps it with the file).
    struct Representation: Sendable {
        let size: Int64
        let modifiedSeconds: Int
        let etag: String
        let lastModified: String
        let contentType: String

        init(_ identity: FileIdentity, path: String) {
            size = identity.size
            // The later of the modification and change times: a file put in place with an
            // old modification time (`cp -p`, `tar`) was still changed when it was put there.
            modifiedSeconds = max(identity.seconds, identity.changeSeconds)
            // The size, and the device, inode, modification and change times mixed (FNV-1a,
            // the same in every run): a change that keeps the size and the modification time
            // (`cp -p`), or a file renamed in place within one tick of the clock, still gets
            // a new tag. (Copies of a file on other machines get other tags.)
            var mixed: UInt64 = 0xcbf2_9ce4_8422_2325
            let parts = [Int(truncatingIfNeeded: identity.device), Int(truncatingIfNeeded: identity.inode), identity.seconds]
            for part in parts + [identity.nanoseconds, identity.changeSeconds, identity.changeNanoseconds] {
                for shift in stride(from: 0, to: 64, by: 8) {
                    mixed = (mixed ^ UInt64(truncatingIfNeeded: part >> shift) & 0xFF) &* 0x100_0000_01b3
                }
            }
            etag = "\"\(String(identity.size, radix: 16))-\(String(mixed, radix: 16))\""
            lastModified = HTTPDate.format(secondsSince1970: modifiedSeconds)
            contentType = MediaType.forFile(named: path)
        }
    }

    /// Decides the response from the request's validators and range, and the file's
    /// size and modification time (RFC 9110, 13 and 14).
    static func make(for request: HTTPRequest, _ representation: Representation) -> FileResponse {
        let size = representation.size
        let etag = representation.etag
        let lastModified = representation.lastModified
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentType] = representation.contentType
        response.headerFields[.lastModified] = lastModified
        response.headerFields[.eTag] = etag
        response.headerFields[.acceptRanges] = "bytes"
        let fields = request.headerFields
        // RFC 9110, 13.2.2: If-Match, else If-Unmodified-Since; then If-None-Match, else
        // If-Modified-Since; then Range.
        if let match = fields[.ifMatch] {
            if match.trimmingSpaces != "*" && !entityTags(match).contains(etag) { return preconditionFailed() }
        } else if let since = fields[.ifUnmodifiedSince].flatMap(HTTPDate.parse), representation.modifiedSeconds > since {
            return preconditionFailed()
        }
        if let match = fields[.ifNoneMatch] {
            if match.trimmingSpaces == "*" || entityTags(match).contains(where: { weakEqual($0, etag) }) {
                return notModified(response)
            }
        } else if let since = fields[.ifModifiedSince].flatMap(HTTPDate.parse), representation.modifiedSeconds <= since {
            return notModified(response)
        }
        var body: Range<Int64> = 0..<size
        if let rangeText = fields[.range], let range = ByteRange(rangeText),
            rangeApplies(fields[.ifRange], etag: etag, lastModified: lastModified, modifiedSeconds: representation.modifiedSeconds)
        {
            guard let selected = range.resolved(length: size) else {
                var refused = HTTPResponse(status: .rangeNotSatisfiable)
                refused.headerFields[.contentRange] = "bytes */\(size)"
                refused.headerFields[.contentLength] = "0"
                return FileResponse(response: refused, body: 0..<0)
            }
            body = selected
            response.status = .partialContent
            response.headerFields[.contentRange] = "bytes \(selected.lowerBound)-\(selected.upperBound - 1)/\(size)"
        }
        response.headerFields[.contentLength] = String(body.count)
        return FileResponse(response: response, body: body)
    }

    private static func preconditionFailed() -> FileResponse {
        var response = HTTPResponse(status: .preconditionFailed)
        response.headerFields[.contentLength] = "0"
        return FileResponse(response: response, body: 0..<0)
    }

    private static func notModified(_ full: HTTPResponse) -> FileResponse {
        var response = HTTPResponse(status: .notModified)
        response.headerFields[.eTag] = full.headerFields[.eTag]
        response.headerFields[.lastModified] = full.headerFields[.lastModified]
        return FileResponse(response: response, body: 0..<0)
    }

    /// If-Range: the range applies only if the representation is the one the client has
    /// (a strong ETag match, or exactly the Last-Modified date). A date is a strong
    /// validator only if it is at least a second older than now (RFC 9110, 8.8.2.2): the
    /// file may change again within the same second, keeping its date.
    private static func rangeApplies(_ ifRange: String?, etag: String, lastModified: String, modifiedSeconds: Int) -> Bool {
        guard let ifRange = ifRange?.trimmingSpaces else { return true }
        if ifRange.hasPrefix("\"") { return ifRange == etag }
        return ifRange == lastModified && modifiedSeconds < Int(time(nil)) - 1
    }

    private static func entityTags(_ list: String) -> [String] {
        list.split(separator: ",").map { String($0).trimmingSpaces }
    }

    /// Weak comparison (RFC 9110, 8.8.3.2): `W/` prefixes do not matter.
    private static func weakEqual(_ a: String, _ b: String) -> Bool {
        let strip = { (tag: String) in tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag }
        return strip(a) == strip(b)
    }
}
