// Invariant checks, for tests and the harness after every step. They hold in release builds
// (no `assert`): violations are returned as text.

extension Endpoint {
    /// Checks the engine's invariants (bytes in flight within the peer's window, buffers within
    /// bounds, advertised right edge never moving left, table consistency); returns the
    /// violations found, in slot order (empty when sound).
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        var live = 0
        for i in slots.indices {
            guard let c = slots[i].connection else { continue }
            if i >= occupiedEnd { problems.append("slot \(i) holds a connection past occupiedEnd \(occupiedEnd)") }
            let id = id(ofSlot: i)
            for p in c.checkInvariants() { problems.append("\(id) \(c.tuple): \(p)") }
            if !c.isClosed {
                live += 1
                if byTuple[c.tuple] != i { problems.append("\(id): not reachable by its 4-tuple") }
            }
        }
        if occupiedEnd > 0 && (occupiedEnd > slots.count || slots[occupiedEnd - 1].connection == nil) {
            problems.append("occupiedEnd \(occupiedEnd) is past the last occupied slot")
        }
        if byTuple.count != live {
            problems.append("tuple table holds \(byTuple.count) entries for \(live) live connections")
        }
        for l in listeners where l.occupancy > l.backlog || l.synReceived < 0 {
            problems.append("listener \(l.port): \(l.synReceived) + \(l.acceptQueue.count) exceed backlog \(l.backlog)")
        }
        if listeners.count > config.maxListeners { problems.append("more listeners than maxListeners") }
        if _counters.encoderSequenceMismatches > 0 || _counters.encoderShortPayloads > 0 {
            problems.append("encoder refused \(_counters.encoderSequenceMismatches) segment(s) with a sequence/payload mismatch and \(_counters.encoderShortPayloads) with a short payload")
        }
        return problems
    }
}

extension Connection {
    func checkInvariants() -> [String] {
        var problems: [String] = []
        if sendRing.count > sendRing.capacity { problems.append("send ring over capacity") }
        if receiveRing.count + assembler.highestEnd > receiveRing.capacity {
            problems.append("receive data past ring capacity: \(receiveRing.count) + \(assembler.highestEnd) > \(receiveRing.capacity)")
        }
        if !(sndUna.isBeforeOrEqual(sndNxt) && sndNxt.isBeforeOrEqual(sndMax)) {
            problems.append("send sequence out of order: una \(sndUna) nxt \(sndNxt) max \(sndMax)")
        }
        if publicState.isSynchronized || state == .synReceived {
            // Nothing past the largest right edge the peer advertised, but a one-byte probe or a FIN.
            if (sndMax - sndMaxEdge) > 1 {
                problems.append("sent past the peer's window: max \(sndMax) edge \(sndMaxEdge)")
            }
            let inFlight = sndNxt - sndUna
            if inFlight > maxPeerWindow + 2 {   // + SYN/FIN or probe
                problems.append("\(inFlight) bytes in flight > largest peer window \(maxPeerWindow)")
            }
        }
        if publicState.isSynchronized {
            if rcvMaxEdge.isBefore(rcvNxt) { problems.append("RCV.NXT \(rcvNxt) past the advertised edge \(rcvMaxEdge)") }
            for p in assembler.checkInvariants(window: receiveWindowForAcceptance) { problems.append("assembler: \(p)") }
        }
        if invariantViolations > 0, let first = firstInvariantViolation {
            problems.append("\(invariantViolations) violation(s), first: \(first)")
        }
        return problems
    }
}
