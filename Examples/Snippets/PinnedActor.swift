import Shoal

/// An actor whose code runs on the reactor thread.
actor Counter {
    let reactor: Reactor
    var count = 0

    init(reactor: Reactor) { self.reactor = reactor }

    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.unownedSerialExecutor }

    func tick() async throws {
        count += 1
        try await reactor.sleep(for: .milliseconds(1))  // a timer, no hop
    }
}

func actorExample() async throws {
    let count = try await Reactor.run { reactor in
        let counter = Counter(reactor: reactor)
        try await counter.tick()
        return await counter.count
    }
    print("counted", count)
}
