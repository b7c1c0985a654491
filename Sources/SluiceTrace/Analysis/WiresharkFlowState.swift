/// What Wireshark's TCP dissector remembers about one direction of a conversation
/// (`tcp_flow_t` and `tcp_analyze_seq_flow_info_t` in packet-tcp.c, Wireshark 4.0). Field names
/// follow the C ones so the port can be checked line by line. Zero means "not seen yet" where the
/// C code tests a field for zero, exactly as it does (a real sequence number 0 is treated the same).
struct WiresharkFlowState {
    var baseSeqSet = false
    var baseSeq: UInt32 = 0
    /// Last raw (unscaled) window field; `UInt32.max` until a packet is seen (as initialised by
    /// `init_tcp_conversation_data`).
    var window: UInt32 = .max
    /// -1: unknown (no SYN seen); -2: SYNs seen, no scaling; 0...14: the shift from the SYN.
    var winScale: Int16 = -1
    /// True from this side's SYN until its first non-SYN ACK: its window is not scaled yet.
    var isFirstAck = false
    var validBif = true
    var lastSegmentFlags: TCPAnalysisFlags = []

    var nextSeq: UInt32 = 0
    var nextSeqFrame = 0
    var nextSeqTime: Int64 = 0
    var maxSeqToBeAcked: UInt32 = 0
    var lastAck: UInt32 = 0
    var lastAckTime: Int64 = 0
    var lastNonDupAck = 0
    var dupAckNum = 0

    /// Segments sent and not yet acknowledged (bounded, see `UnackedSegments`).
    var unacked = UnackedSegments()

    /// The window scale shift to apply to this side's window field, or nil when unknown.
    var knownShift: Int? { Self.shift(of: winScale) }

    static func shift(of winScale: Int16) -> Int? {
        switch winScale {
        case -2: 0
        case 0...14: Int(winScale)
        default: nil
        }
    }
}

/// The unacknowledged segments of one direction, oldest first, at most `limit` of them
/// (Wireshark's `TCP_MAX_UNACKED_SEGMENTS`; past it new segments are not recorded, as there).
///
/// Kept as an array with a moving head. While every segment was appended after the previous
/// one in sequence space (the usual case) an ACK only touches a prefix, so processing stops at
/// the first segment it does not reach; after a retransmission or reordering it scans them all.
struct UnackedSegments {
    struct Entry {
        var seq: UInt32
        var nextSeq: UInt32
        var frame: Int
        var time: Int64
    }

    private(set) var storage: [Entry] = []
    private var head = 0
    /// Every entry starts at or after the previous entry's end (modular).
    private var monotone = true
    /// An ACK value already applied with nothing appended since: applying it again is a no-op.
    private var lastAppliedAck: UInt32? = nil

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ e: Entry) {
        if let last = storage.last, head < storage.count, Int32(bitPattern: e.seq &- last.nextSeq) < 0 {
            monotone = false
        }
        storage.append(e)
        lastAppliedAck = nil
    }

    /// Applies a cumulative ACK the way packet-tcp.c's removal loop does: a segment whose end
    /// equals the ACK is matched (the oldest such segment gives the RTT sample, as the C loop,
    /// which walks newest first and lets the last match win); a segment the ACK enters is trimmed
    /// to start at the ACK; a segment wholly below it is removed.
    ///
    /// - Returns: the matched segment's frame and send time, if any.
    mutating func applyAck(_ ack: UInt32) -> (frame: Int, time: Int64)? {
        if lastAppliedAck == ack || isEmpty { return nil }
        lastAppliedAck = ack
        var matched: (frame: Int, time: Int64)? = nil
        if monotone {
            var i = head
            while i < storage.count {
                let e = storage[i]
                if ack == e.nextSeq {
                    if matched == nil { matched = (e.frame, e.time) }
                    i += 1
                    continue
                }
                if gtSeq(ack, e.seq) && leSeq(ack, e.nextSeq) {
                    storage[i].seq = ack
                    break
                }
                if gtSeq(e.nextSeq, ack) { break }
                i += 1
            }
            head = i
            compactIfNeeded()
            return matched
        }
        var kept: [Entry] = []
        kept.reserveCapacity(count)
        for i in head..<storage.count {
            var e = storage[i]
            if ack == e.nextSeq {
                if matched == nil { matched = (e.frame, e.time) }
                continue
            }
            if gtSeq(ack, e.seq) && leSeq(ack, e.nextSeq) {
                e.seq = ack
                kept.append(e)
                continue
            }
            if gtSeq(e.nextSeq, ack) {
                kept.append(e)
                continue
            }
        }
        storage = kept
        head = 0
        monotone = true
        for i in storage.indices.dropFirst() where Int32(bitPattern: storage[i].seq &- storage[i - 1].nextSeq) < 0 {
            monotone = false
            break
        }
        return matched
    }

    private mutating func compactIfNeeded() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
            monotone = true
        } else if head > 64 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}

/// `GT_SEQ(x, y)`: x is after y, modulo 2^32.
@inline(__always) func gtSeq(_ x: UInt32, _ y: UInt32) -> Bool { Int32(bitPattern: y &- x) < 0 }
/// `LT_SEQ(x, y)`.
@inline(__always) func ltSeq(_ x: UInt32, _ y: UInt32) -> Bool { Int32(bitPattern: x &- y) < 0 }
/// `LE_SEQ(x, y)`.
@inline(__always) func leSeq(_ x: UInt32, _ y: UInt32) -> Bool { Int32(bitPattern: x &- y) <= 0 }
