import ArgumentParser
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Sends every byte it reads straight back: SwiftNIO's `EchoHandler` pattern.
private final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// `nio-echo`: the SwiftNIO peer of `shoal-echo`, on one event-loop thread.
@main
struct NIOEcho: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-echo",
        abstract: "A TCP echo server on SwiftNIO with one event-loop thread (the benchmark peer of shoal-echo).")

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port = 7_001

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1_024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: host, port: port)
            .wait()
        print("nio-echo listening on \(host):\(channel.localAddress?.port ?? port)")
        fflush(nil)  // a reader on a pipe sees the line now
        try channel.closeFuture.wait()
        try group.syncShutdownGracefully()
    }
}
