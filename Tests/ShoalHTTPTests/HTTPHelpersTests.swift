import ShoalHTTP
import Testing

@Suite("HTTP helpers: dates, ranges, request paths, media types")
struct HTTPHelpersTests {
    @Test("IMF-fixdate round trip; other date forms and nonsense are nil")
    func dates() {
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        // The obsolete forms a recipient must accept (RFC 9110, 5.6.7).
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        for text in [
            "Sun, 06 Nov 1994 08:49:37 UTC", "", "Sun, 32 Nov 1994 08:49:37 GMT", "Sunday, 6-Nov-94 08:49:37 GMT", "Sun Nov 6 08:49 1994",
        ] {
            #expect(HTTPDate.parse(text) == nil, "\(text)")
        }
    }

    @Test("single byte ranges parse and clip; lists and bad syntax are ignored; nothing selected is nil")
    func ranges() {
        #expect(ByteRange("bytes=0-9")?.resolved(length: 100) == 0..<10)
        #expect(ByteRange("bytes=90-")?.resolved(length: 100) == 90..<100)
        #expect(ByteRange("bytes=-5")?.resolved(length: 100) == 95..<100)
        #expect(ByteRange("bytes=-500")?.resolved(length: 100) == 0..<100)
        #expect(ByteRange("bytes=50-500")?.resolved(length: 100) == 50..<100)
        #expect(ByteRange("bytes=100-")?.resolved(length: 100) == nil)
        #expect(ByteRange("bytes=-0")?.resolved(length: 100) == nil)
        #expect(ByteRange("bytes=0-0")?.resolved(length: 0) == nil)
        // The unit is case-insensitive; positions past Int64 mean "past the end".
        #expect(ByteRange("BYTES=0-1")?.resolved(length: 100) == 0..<2)
        #expect(ByteRange("bytes=0-99999999999999999999")?.resolved(length: 100) == 0..<100)
        #expect(ByteRange("bytes=99999999999999999999-")?.resolved(length: 100) == nil)
        // Leading zeros do not count toward the size of a number.
        #expect(ByteRange("bytes=00000000000000000000001-2")?.resolved(length: 100) == 1..<3)
        #expect(ByteRange("bytes=-000000000000000000000005")?.resolved(length: 100) == 95..<100)
        for text in ["bytes=0-1,5-6", "bytes=5-1", "items=0-1", "bytes=a-b", "bytes=-", "bytes=1", "bytes= 1-2", "bytes=+1-2"] {
            #expect(ByteRange(text) == nil, "\(text)")
        }
    }

    @Test("request paths decode per segment; dots and encoded separators are refused")
    func paths() throws {
        #expect(try RequestPath.segments(of: "/") == [])
        #expect(try RequestPath.segments(of: "/a//b/./c?x=/..") == ["a", "b", "c"])
        #expect(try RequestPath.segments(of: "/caf%C3%A9%20au%20lait") == ["café au lait"])
        for target in ["/..", "/a/../b", "/%2e%2e/x", "/%2E%2e", "/.hidden", "/a/.git/config"] {
            #expect(throws: RequestPath.Refusal.outside, "\(target)") { try RequestPath.segments(of: target) }
        }
        for target in ["/a%2fb", "/a%5Cb", "/a%00", "/a%zz", "/a%4", "/%ff%fe", "a/b"] {
            #expect(throws: RequestPath.Refusal.malformed, "\(target)") { try RequestPath.segments(of: target) }
        }
    }

    @Test("media types by extension, case-insensitive; unknown is octet-stream")
    func mediaTypes() {
        #expect(MediaType.forFile(named: "index.HTML") == "text/html; charset=utf-8")
        #expect(MediaType.forFile(named: "/srv/a.tar.gz") == "application/gzip")
        #expect(MediaType.forFile(named: "noextension") == "application/octet-stream")
        #expect(MediaType.forFile(named: ".bashrc") == "application/octet-stream")
    }
}
