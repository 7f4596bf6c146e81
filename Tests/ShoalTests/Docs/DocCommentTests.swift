import Foundation
import Testing

/// Every public declaration of the library modules has a `///` comment (DocC shows it;
/// `scripts/docs` fails on broken links and undocumented parameters).
@Suite("Documentation: every public declaration is documented")
struct DocCommentTests {
    @Test("each public declaration in ShoalKernel, Shoal and ShoalHTTP follows a /// comment")
    func publicDeclarationsAreDocumented() throws {
        let manager = FileManager.default
        var undocumented: [String] = []
        var seen = 0
        for module in ["ShoalKernel", "Shoal", "ShoalHTTP"] {
            let folder = SnippetTests.root.appendingPathComponent("Sources/\(module)")
            let files = try #require(manager.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            for file in files {
                let lines = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
                for (index, line) in lines.enumerated() {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    guard Self.declaresPublicly(text) else { continue }
                    seen += 1
                    // Attributes and formatter directives may stand between the comment and the declaration.
                    var above = index - 1
                    while above >= 0 {
                        let previous = lines[above].trimmingCharacters(in: .whitespaces)
                        guard previous.hasPrefix("@") || previous.hasPrefix("// swift-format-ignore") else { break }
                        above -= 1
                    }
                    if above < 0 || !lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                        undocumented.append("\(module)/\(file):\(index + 1): \(text)")
                    }
                }
            }
        }
        #expect(seen > 300)
        #expect(undocumented.isEmpty, "\(undocumented.joined(separator: "\n"))")
    }

    /// Whether a line declares something public (extensions and imports excluded).
    static func declaresPublicly(_ text: String) -> Bool {
        var rest = Substring(text)
        while rest.hasPrefix("@") {
            guard let space = rest.firstIndex(of: " ") else { return false }
            rest = rest[rest.index(after: space)...]
        }
        guard rest.hasPrefix("public ") else { return false }
        let declaration = rest.dropFirst("public ".count)
        return !declaration.hasPrefix("import ") && !declaration.hasPrefix("extension ")
    }
}
