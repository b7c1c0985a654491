#if NIO
import NIOCore
import SluiceCore

extension SluiceCore.SocketAddress {
    /// The same IPv4 address and port as a NIO address.
    var nioAddress: NIOCore.SocketAddress? {
        try? NIOCore.SocketAddress(ipAddress: address.description, port: Int(port))
    }

    /// A NIO IPv4 address as Sluice's; `nil` for another family.
    init?(nio: NIOCore.SocketAddress) {
        guard case .v4 = nio, let ip = nio.ipAddress, let address = IPv4Address(ip),
              let port = nio.port, let port16 = UInt16(exactly: port) else { return nil }
        self.init(address, port16)
    }
}
#endif
