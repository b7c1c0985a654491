/// The bytes a hex string spells (`"0a1b"` -> `[0x0a, 0x1b]`), for packets and pinned values
/// written out in tests.
package func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2, limitedBy: s.endIndex) ?? s.endIndex
        out.append(UInt8(s[i..<j], radix: 16) ?? 0)
        i = j
    }
    return out
}
