import Shoal

#if canImport(Glibc)
import Glibc
#endif

/// What a benchmark report says about the machine it ran on.
struct MachineInfo {
    let kernel: String
    let cpus: Int
    let build: String

    static func current() -> MachineInfo {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        #if DEBUG
        let build = "debug (numbers are not representative: use -c release)"
        #else
        let build = "release"
        #endif
        return MachineInfo(kernel: "Linux \(release)", cpus: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), build: build)
    }

    /// One line for the top of a report.
    var line: String { "machine: \(kernel), \(cpus) CPUs, \(build) build" }
}
