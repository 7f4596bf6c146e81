// The examples of code in README.md and docs/, compiled with the package
// (`swift run shoal-snippets` runs them all). A test checks that every Swift block in
// the documentation appears here word for word.
import Shoal

let hostname = try await Reactor.run { reactor in
    // This closure, and every task it starts, runs on the reactor's own thread.
    let file = try await File.open("/etc/hostname", on: reactor)
    let bytes = try await file.read(at: 0, count: 4096)
    try await file.close()
    async let pause: Void = reactor.sleep(for: .milliseconds(10))
    try await pause
    return String(decoding: bytes.bytes, as: UTF8.self)
}
print(hostname, terminator: "")

try await errorsExample()
try await actorExample()
try reaperAlone()
try await shutdownLoopExample()
print(try await gettingStarted(), terminator: "")
