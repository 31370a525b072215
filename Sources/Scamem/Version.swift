/// The library's release: the one place its version is written on the Swift
/// side. `scamem_version_string()` returns it and `scamem --version` prints
/// it; the header's SCAMEM_VERSION_* (tests check them against it) and the
/// Makefile's VERSION (Tests/cli/t_cli.sh checks it) must say the same.
public let libraryVersion: StaticString = "0.2.0"
