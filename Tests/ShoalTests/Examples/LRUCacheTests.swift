import ExampleSupport
import Testing

@Suite("LRUCache: least recently used goes first, within a total cost")
struct LRUCacheTests {
    @Test("eviction order follows use; replacing and removing keep the cost right; too large is not kept")
    func order() {
        var cache = LRUCache<String, Int>(capacity: 10)
        cache.insert(1, for: "a", cost: 4)
        cache.insert(2, for: "b", cost: 4)
        #expect(cache.value(for: "a") == 1)  // a is now the newest
        cache.insert(3, for: "c", cost: 4)  // over 10: b, the oldest, goes
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1 && cache.value(for: "c") == 3)
        #expect(cache.cost == 8 && cache.count == 2)
        cache.insert(5, for: "a", cost: 2)
        #expect(cache.cost == 6 && cache.value(for: "a") == 5)
        cache.remove("c")
        #expect(cache.cost == 2 && cache.count == 1)
        cache.insert(9, for: "huge", cost: 11)
        #expect(cache.value(for: "huge") == nil && cache.cost == 2)
        var none = LRUCache<Int, Int>(capacity: 0)
        none.insert(1, for: 1, cost: 1)
        #expect(none.count == 0)
    }

    @Test("10,000 random operations keep count, cost and contents consistent with a model")
    func model() {
        var cache = LRUCache<Int, Int>(capacity: 100)
        var model: [(key: Int, value: Int, cost: Int)] = []  // oldest first
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for step in 0..<10_000 {
            let key = next(40)
            switch next(3) {
            case 0:
                let cost = 1 + next(30)
                cache.insert(step, for: key, cost: cost)
                model.removeAll { $0.key == key }
                model.append((key, step, cost))
                while model.reduce(0, { $0 + $1.cost }) > 100 { model.removeFirst() }
            case 1:
                let expected = model.first { $0.key == key }?.value
                #expect(cache.value(for: key) == expected)
                if let position = model.firstIndex(where: { $0.key == key }) { model.append(model.remove(at: position)) }
            default:
                cache.remove(key)
                model.removeAll { $0.key == key }
            }
            #expect(cache.count == model.count)
            #expect(cache.cost == model.reduce(0) { $0 + $1.cost })
        }
    }
}
