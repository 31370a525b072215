#if canImport(Glibc)
import Glibc
#endif

/// An error of the model: a positive errno value, as the C functions return
/// it negated.
///
/// The C counterpart is the negative `int` every `scamem_*` function returns,
/// and `scamem_strerror()` gives its text.
@frozen
public struct ScamemError: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }

    /// A bad argument: NULL, bad flags or order, wrong kind of page.
    public static let invalid = ScamemError(rawValue: EINVAL)
    /// The pfn is beyond the machine's last pfn.
    public static let outOfRange = ScamemError(rawValue: ERANGE)
    /// The pfn has no memory (a hole) or no memmap.
    public static let noPage = ScamemError(rawValue: ENXIO)
    /// No free block in any allowed zone, or host memory ran out.
    public static let noMemory = ScamemError(rawValue: ENOMEM)
    /// The page is already free.
    public static let alreadyFree = ScamemError(rawValue: EALREADY)
    /// A reference count would overflow.
    public static let overflow = ScamemError(rawValue: EOVERFLOW)
    /// An option struct carries non-zero fields this library does not know.
    public static let tooBig = ScamemError(rawValue: E2BIG)
    /// No such object (no vm area at this address).
    public static let notFound = ScamemError(rawValue: ENOENT)
    /// A handle that names nothing live: stale, freed, or made up.
    public static let badHandle = ScamemError(rawValue: EBADF)
    /// A user address with no mapping (or no page where one is needed).
    public static let fault = ScamemError(rawValue: EFAULT)
    /// Already mapped, or mapped by something else.
    public static let busy = ScamemError(rawValue: EBUSY)
    /// A file could not be read or written, or is not what it should be.
    public static let io = ScamemError(rawValue: EIO)
    /// Reading the file needs privileges this process lacks.
    public static let permission = ScamemError(rawValue: EACCES)
    /// No scamem index left (SCAMEM_PACKED's bound).
    public static let noSpace = ScamemError(rawValue: ENOSPC)
    /// A fixed mapping would overlap an existing one.
    public static let exists = ScamemError(rawValue: EEXIST)
    /// The subject refuses this mapping (bpf ringbuf: a writable mapping of
    /// more than its consumer page).
    public static let notPermitted = ScamemError(rawValue: EPERM)
    /// The page is already poisoned (memory_failure()), or a fault hit a
    /// hwpoison entry (VM_FAULT_HWPOISON: the kernel's SIGBUS BUS_MCEERR_AR).
    /// Linux's EHWPOISON, 133.
    public static let hwpoison = ScamemError(rawValue: 133)
    /// Not supported in this state (unpoison_memory() after a real,
    /// not MF_SW_SIMULATED, memory failure).
    public static let notSupported = ScamemError(rawValue: EOPNOTSUPP)
    /// No such node (move_pages() to a node the machine does not have).
    public static let noDevice = ScamemError(rawValue: ENODEV)

    /// The text `scamem_strerror()` gives.
    public var description: String { String(describing: ScamemError.message(rawValue)) }

    /// Static text for a positive errno value; the C face hands out its pointer.
    public static func message(_ code: Int32) -> StaticString {
        switch code {
        case 0: return "success"
        case EINVAL: return "invalid argument (NULL, bad flag, order, type, or wrong kind of page)"
        case ERANGE: return "pfn beyond the machine's last pfn"
        case ENXIO: return "no memory at this pfn (hole or no memmap)"
        case ENOMEM: return "out of memory in every allowed zone and node"
        case EALREADY: return "page is already free"
        case EOVERFLOW: return "reference count would overflow"
        case E2BIG: return "option struct has unknown non-zero fields"
        case ENOENT: return "no such object"
        case EBUSY: return "already mapped, or mapped by another object"
        case EBADF: return "stale or invalid handle"
        case EFAULT: return "no mapping or no page at this user address"
        case EEXIST: return "a fixed mapping would overlap an existing one"
        case ENOSPC: return "no scamem index left (SCAMEM_PACKED bound)"
        case EIO: return "a capture file is missing, unreadable or malformed; or (unpoison) no memory at this pfn"
        case EACCES: return "permission denied (reading /proc/kpageflags needs root)"
        case EPERM: return "operation not permitted on this mapping"
        case 133: return "memory page has hardware error (hwpoison)"
        case EOPNOTSUPP: return "operation not supported (unpoison after a real memory failure)"
        case ENODEV: return "no such node"
        default: return "unknown error"
        }
    }
}
