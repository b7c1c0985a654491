// The application's calls on a connection (RFC 9293 §3.10.2–3.10.5: SEND, RECEIVE, CLOSE, ABORT).

extension Connection {
    /// Queues as many bytes as fit in the send ring (RFC 9293 §3.10.2). Returns how many; 0 when
    /// the ring is full (backpressure), after a shutdown, or once closed.
    func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard !finQueued, !applicationClosed else { return 0 }
        switch state {
        case .synSent, .synReceived, .established, .closeWait:
            break
        default:
            return 0
        }
        let n = sendRing.write(bytes)
        if n < bytes.count { writerBlocked = true }
        updatePeaks()
        return n
    }

    /// Copies in-order bytes out of the receive ring (RFC 9293 §3.10.3). When the read opens the
    /// window enough, an ACK carrying the new window goes out at once (`noteRead`).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        readableSignalled = false
        let n = receiveRing.read(into: buffer)
        releaseReceiveStorageIfEmpty()
        noteRead(n)   // Connection+FlowControl.swift: window update, ACK of a small segment
        return n
    }

    /// The peer's FIN has been received and every byte before it read.
    var isAtEndOfStream: Bool { finReceived && receiveRing.isEmpty }

    /// Half-close (RFC 9293 §3.10.4 CLOSE, for the sending direction): a FIN follows the queued
    /// data. ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK at once; in SYN-SENT and
    /// SYN-RECEIVED the FIN waits for ESTABLISHED.
    func shutdown() {
        guard !finQueued else { return }
        switch state {
        case .synSent, .synReceived:
            finQueued = true
        case .established:
            finQueued = true
            state = .finWait1
        case .closeWait:
            finQueued = true
            state = .lastAck
        default:
            break
        }
    }

    /// Close: shut down the sending side and stop reading; unread and later data is discarded
    /// (still acknowledged, so the peer's FIN gets through). RFC 9293 §3.10.4: in SYN-SENT the
    /// connection is simply deleted.
    func close() {
        applicationClosed = true
        if case .synSent = state {
            enterClosed(.normal)
            return
        }
        shutdown()
        _ = receiveRing.discard(receiveRing.count)
        releaseReceiveStorageIfEmpty()
    }

    /// The receive ring's storage goes back (to the endpoint's pool) when nothing is buffered:
    /// no readable bytes and none held out of order past them. An idle connection holds no ring
    /// memory.
    func releaseReceiveStorageIfEmpty() {
        if receiveRing.isEmpty && assembler.isEmpty { receiveRing.releaseStorage() }
    }

    /// Abort (RFC 9293 §3.10.5): in SYN-RECEIVED and the synchronized states a RST
    /// `<SEQ=SND.NXT><CTL=RST>` is due; the connection is CLOSED at once.
    /// - Returns: the RST's sequence number, or `nil` when none is sent.
    func abort() -> SequenceNumber? {
        applicationClosed = true
        let reset: SequenceNumber?
        switch state {
        case .synSent, .closed, .timeWait:
            reset = nil
        default:
            reset = sndNxt
        }
        if case .timeWait = state {
            state = .closed(.normal)
        } else {
            enterClosed(.aborted)
        }
        return reset
    }
}
