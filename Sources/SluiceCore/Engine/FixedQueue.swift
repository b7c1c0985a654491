/// A first-in first-out queue of fixed capacity: storage is reserved once, `push` fails when
/// full (the caller counts the drop), nothing ever grows.
struct FixedQueue<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = Array(repeating: nil, count: Swift.max(0, capacity))
    }

    var capacity: Int { storage.count }
    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == storage.count }

    /// Appends `element`; `false` (nothing stored) when full.
    @discardableResult
    mutating func push(_ element: Element) -> Bool {
        guard count < storage.count else { return false }
        storage[(head + count) % storage.count] = element
        count += 1
        return true
    }

    /// Removes and returns the oldest element.
    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    /// Removes every element for which `predicate` holds, keeping the order of the rest.
    mutating func removeAll(where predicate: (Element) -> Bool) {
        let n = count
        var kept = 0
        for i in 0..<n {
            let index = (head + i) % storage.count
            guard let element = storage[index] else { continue }
            storage[index] = nil
            if !predicate(element) {
                storage[(head + kept) % storage.count] = element
                kept += 1
            }
        }
        count = kept
    }
}
