// What `import Shoal` brings besides Shoal's own API: swift-system's vocabulary
// (`FileDescriptor`, `FilePath`, `Errno`) and the error every failed system call throws.
// The kernel layer itself (`ShoalKernel`: AIO contexts, the reaper, epoll) stays out of
// sight; import it explicitly to use it.
@_exported public import SystemPackage

@_exported public import struct ShoalKernel.SystemCallError
