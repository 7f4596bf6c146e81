import Foundation
import Testing

/// The examples of code in the documentation compile: each Swift block of README.md,
/// docs/*.md and the DocC articles must appear, line for line (indentation aside), in a file of
/// Examples/Snippets, which the package builds.
@Suite("Documentation: every Swift example is compiled code")
struct SnippetTests {
    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md, docs/*.md, and the articles of every DocC catalog in Sources/.
    static func documents() throws -> [URL] {
        let manager = FileManager.default
        let docs = root.appendingPathComponent("docs")
        let names = try manager.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
        var found = [root.appendingPathComponent("README.md")] + names.sorted().map { docs.appendingPathComponent($0) }
        let sources = root.appendingPathComponent("Sources")
        for module in try manager.contentsOfDirectory(atPath: sources.path).sorted() {
            let catalog = sources.appendingPathComponent(module).appendingPathComponent("Documentation.docc")
            guard let articles = try? manager.contentsOfDirectory(atPath: catalog.path) else { continue }
            found += articles.filter { $0.hasSuffix(".md") }.sorted().map { catalog.appendingPathComponent($0) }
        }
        return found
    }

    /// The lines of each ```swift block of `text`, trimmed.
    static func swiftBlocks(in text: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil {
                if trimmed == "```swift" { current = [] }
            } else if trimmed == "```" {
                blocks.append(current!)
                current = nil
            } else {
                current!.append(trimmed)
            }
        }
        return blocks
    }

    static func contains(_ haystack: [String], _ needle: [String]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }

    @Test("every Swift block in README.md and docs/ is in Examples/Snippets")
    func blocksAreCompiled() throws {
        let snippets = Self.root.appendingPathComponent("Examples/Snippets")
        let files = try FileManager.default.contentsOfDirectory(atPath: snippets.path).filter { $0.hasSuffix(".swift") }
        let sources = try files.map {
            try String(contentsOf: snippets.appendingPathComponent($0), encoding: .utf8)
                .components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var checked = 0
        for document in try Self.documents() {
            let text = try String(contentsOf: document, encoding: .utf8)
            for block in Self.swiftBlocks(in: text) {
                checked += 1
                #expect(
                    sources.contains { Self.contains($0, block) },
                    "\(document.lastPathComponent): this block is not in Examples/Snippets:\n\(block.joined(separator: "\n"))")
            }
        }
        #expect(checked >= 8)
    }
}
