import Testing
@testable import Scamem
