import Testing
import SluiceCore

@Suite struct SequenceNumberTests {
    @Test func wrapsAcross2to32() {
        let a = SequenceNumber(UInt32.max - 9)
        let b = a + 20
        #expect(b.rawValue == 10)
        #expect(b - a == 20)
        #expect(a - b == -20)
        #expect(a.isBefore(b))
        #expect(b.isAfter(a))
        #expect(!b.isBefore(a))
        #expect((b - 20) == a)
    }

    @Test func orderIsModularNotNumeric() {
        let low = SequenceNumber(5)
        let high = SequenceNumber(UInt32.max - 5)
        #expect(high.isBefore(low))   // high is 11 bytes before low on the circle
        #expect(SequenceNumber.max(low, high) == low)
        #expect(SequenceNumber.min(low, high) == high)
    }

    @Test func distanceIsSignedAcrossWrap() {
        let a = SequenceNumber(UInt32.max)
        #expect((a + 1).rawValue == 0)
        #expect(SequenceNumber(0) - a == 1)
        #expect(a - SequenceNumber(0) == -1)
        #expect(!a.isBefore(a))
        #expect(a.isBeforeOrEqual(a))
        #expect(SequenceNumber(0).isAfterOrEqual(a))
    }

    @Test func intervalMembershipAcrossWrap() {
        let lo = SequenceNumber(UInt32.max - 1)
        let hi = lo + 4
        #expect(SequenceNumber(UInt32.max).isIn(lo, hi))
        #expect(SequenceNumber(1).isIn(lo, hi))
        #expect(!SequenceNumber(2).isIn(lo, hi))
        #expect(lo.isIn(lo, hi))
        #expect(!hi.isIn(lo, hi))
    }
}
