#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Opens the link a CLI asked for: the named TUN device, or the UDP-on-loopback link.
package enum LinkChoice {
    /// `--tun NAME`: attach to the device (creating it if absent, with a note that it then needs
    /// an address). Otherwise UDP: bind 127.0.0.1:`udpPort` (`bind`) or send to it from an
    /// ephemeral port. `offload` (TUN only) opens the device in offload mode (`TUNDevice`).
    package static func open(tun: String?, udpPort: UInt16, bind: Bool, offload: Bool = false) throws(LinkError) -> any PacketLink {
        if let tun {
            let existed = if_nametoindex(tun) != 0
            let device: TUNDevice
            do { device = try TUNDevice(name: tun, offload: offload) } catch { throw LinkError(error.description) }
            if !existed {
                Console.error("note: created TUN device \(tun); it is down and has no address until configured (tools/netns-tun sets one up)")
            }
            return device
        }
        if offload { throw LinkError("--offload needs a TUN device: add --tun NAME") }
        return bind ? try UDPLink(bindingLoopbackPort: udpPort) : try UDPLink(connectingToLoopbackPort: udpPort)
    }
}
