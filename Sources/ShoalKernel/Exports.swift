// ShoalKernel's API speaks swift-system (`FileDescriptor`, `FilePath`, `Errno`): importing
// ShoalKernel brings them.
@_exported import SystemPackage
