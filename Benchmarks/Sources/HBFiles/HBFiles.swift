import ArgumentParser
import Hummingbird
import NIOPosix

/// `hb-files`: Hummingbird's `FileMiddleware` serving a folder on one NIO event-loop
/// thread, with Hummingbird's defaults otherwise (file reads on NIO's shared thread
/// pool). The Swift peer of `shoal-httpd` in `shoal-bench http`.
@main
struct HBFiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hb-files", abstract: "Hummingbird's FileMiddleware on one event-loop thread.")

    @Option(help: "The folder to serve.")
    var root: String

    @Option(help: "The port to listen on (127.0.0.1).")
    var port = 8_081

    func run() async throws {
        let router = Router()
        router.middlewares.add(FileMiddleware(root, searchForIndexHtml: true))
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1))
        )
        print("hb-files serving \(root) on http://127.0.0.1:\(port)/")
        try await app.runService()
    }
}
