/// A cache that keeps what was used last, up to a total cost: the least recently used
/// entries go first. Not thread-safe: one owner (a reactor's thread) uses it.
public struct LRUCache<Key: Hashable, Value> {
    private struct Node {
        var key: Key
        var value: Value
        var cost: Int
        var newer: Int?
        var older: Int?
    }

    /// The most total cost kept.
    public let capacity: Int
    /// The total cost kept now.
    public private(set) var cost = 0
    private var nodes: [Node?] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    private var newest: Int?
    private var oldest: Int?

    /// An empty cache holding at most `capacity` in total cost (0: keeps nothing).
    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// Entries kept.
    public var count: Int { index.count }

    /// Whether `key` is kept (its place in the order does not change).
    public func contains(_ key: Key) -> Bool { index[key] != nil }

    /// The value for `key`, now the most recently used; `nil` if not kept.
    public mutating func value(for key: Key) -> Value? {
        guard let slot = index[key] else { return nil }
        unlink(slot)
        linkNewest(slot)
        return nodes[slot]!.value
    }

    /// Keeps `value` for `key` at `cost`, replacing an older value, and drops the least
    /// recently used entries until the total fits. A value costing more than the whole
    /// capacity is not kept.
    public mutating func insert(_ value: Value, for key: Key, cost: Int) {
        remove(key)
        guard cost <= capacity else { return }
        while self.cost + cost > capacity, let last = oldest { remove(nodes[last]!.key) }
        let node = Node(key: key, value: value, cost: cost, newer: nil, older: nil)
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            nodes[slot] = node
        } else {
            slot = nodes.count
            nodes.append(node)
        }
        index[key] = slot
        self.cost += cost
        linkNewest(slot)
    }

    /// Forgets `key`.
    public mutating func remove(_ key: Key) {
        guard let slot = index.removeValue(forKey: key) else { return }
        unlink(slot)
        cost -= nodes[slot]!.cost
        nodes[slot] = nil
        free.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let node = nodes[slot]!
        if let newer = node.newer { nodes[newer]!.older = node.older } else { newest = node.older }
        if let older = node.older { nodes[older]!.newer = node.newer } else { oldest = node.newer }
        nodes[slot]!.newer = nil
        nodes[slot]!.older = nil
    }

    private mutating func linkNewest(_ slot: Int) {
        nodes[slot]!.older = newest
        nodes[slot]!.newer = nil
        if let newest { nodes[newest]!.newer = slot }
        newest = slot
        if oldest == nil { oldest = slot }
    }
}
