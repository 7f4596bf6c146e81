import ArgumentParser

/// `shoal-bench`: Shoal's benchmarks. Release builds only: `swift run -c release shoal-bench ...`.
@main
struct ShoalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-bench",
        abstract: "Benchmarks for Shoal, each against a named peer in the same run.",
        subcommands: [
            ReapCommand.self, TasksCommand.self, IdleCommand.self, CombinedStepCommand.self, TicketCommand.self,
            DiskCommand.self, CopyCommand.self, HTTPCommand.self,
        ]
    )
}
