import { describe, expect, it } from "@effect/vitest"
import * as Hub from "@bytechannel/core/Hub"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

const bytes = (n: number) => new Uint8Array([n & 0xff, n >> 8])
const number = (b: Uint8Array) => b[0]! | (b[1]! << 8)
const take = (stream: Stream.Stream<Uint8Array, Hub.HubError>, n: number) =>
  stream.pipe(Stream.take(n), Stream.runCollect, Effect.map((items) => items.map(number)))

describe("Hub (in process)", () => {
  it.effect("every subscriber gets every message published after it subscribed, in order; other topics stay apart", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      yield* hub.publish("a", bytes(999)) // nobody subscribed yet: goes nowhere
      const first = yield* hub.subscribe("a")
      const second = yield* hub.subscribe("a")
      const other = yield* hub.subscribe("b")
      for (let i = 0; i < 100; i++) yield* hub.publish("a", bytes(i))
      yield* hub.publish("b", bytes(7))
      const expected = Array.from({ length: 100 }, (_, i) => i)
      expect(yield* take(first, 100)).toEqual(expected)
      expect(yield* take(second, 100)).toEqual(expected)
      expect(yield* take(other, 1)).toEqual([7])
    }))

  it.effect("a subscription ends with its scope, and gets nothing after", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      const scope = yield* Scope.make()
      const stream = yield* hub.subscribe("t").pipe(Scope.provide(scope))
      yield* hub.publish("t", bytes(1))
      const reader = yield* Effect.forkChild(Stream.runCollect(stream))
      yield* Scope.close(scope, Exit.void)
      yield* hub.publish("t", bytes(2))
      const got = (yield* Fiber.join(reader)).map(number)
      expect(got).toEqual([1]) // what it held is still read, then the stream ends
    }))

  it.effect("concurrent publishers: each one's messages arrive in its order, none twice", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      const stream = yield* hub.subscribe("t", { bufferSize: 4096 })
      const publisher = (id: number) =>
        Effect.forEach(Array.from({ length: 500 }, (_, i) => i), (i) => Effect.andThen(Effect.yieldNow, hub.publish("t", bytes(id * 1000 + i))), { discard: true })
      yield* Effect.all([publisher(1), publisher(2), publisher(3)], { concurrency: "unbounded" })
      const got = yield* take(stream, 1500)
      for (const id of [1, 2, 3]) {
        expect(got.filter((n) => Math.floor(n / 1000) === id).map((n) => n % 1000)).toEqual(Array.from({ length: 500 }, (_, i) => i))
      }
    }))

  it.effect("dropOldest (default): a subscriber that does not read keeps the newest bufferSize messages, and publish never waits", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      const before = (yield* Metric.value(Hub.dropped)).count
      const slow = yield* hub.subscribe("t", { bufferSize: 4 })
      const fast = yield* hub.subscribe("t", { bufferSize: 100 })
      for (let i = 0; i < 10; i++) yield* hub.publish("t", bytes(i))
      expect(yield* take(slow, 4)).toEqual([6, 7, 8, 9])
      expect(yield* take(fast, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect((yield* Metric.value(Hub.dropped)).count - before).toBe(6)
    }))

  it.effect("dropNewest: keeps the first bufferSize messages", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      const slow = yield* hub.subscribe("t", { bufferSize: 4, overflow: "dropNewest" })
      for (let i = 0; i < 10; i++) yield* hub.publish("t", bytes(i))
      yield* hub.publish("end", bytes(0))
      expect(yield* take(slow, 4)).toEqual([0, 1, 2, 3])
    }))

  it.effect("fail: the lagging subscriber's stream fails at once with HubError Overflow, dropping what it held; the others go on", () =>
    Effect.gen(function*() {
      const hub = Hub.make()
      const before = (yield* Metric.value(Hub.dropped)).count
      const slow = yield* hub.subscribe("t", { bufferSize: 4, overflow: "fail" })
      const other = yield* hub.subscribe("t", { bufferSize: 100, overflow: "fail" })
      for (let i = 0; i < 5; i++) yield* hub.publish("t", bytes(i))
      yield* hub.publish("t", bytes(5)) // after the failure: not offered, not counted again
      const heard: Array<number> = []
      const error = yield* Stream.runForEach(slow, (b) => Effect.sync(() => heard.push(number(b)))).pipe(Effect.flip)
      expect(heard).toEqual([])
      expect(error).toBeInstanceOf(Hub.HubError)
      expect(error.reason).toBe("Overflow")
      expect(error.message).toContain(`"t"`)
      expect(yield* take(other, 6)).toEqual([0, 1, 2, 3, 4, 5])
      expect((yield* Metric.value(Hub.dropped)).count - before).toBe(5) // the 4 it held and the 5th
    }))

  it.effect("the layer and accessors: Hub.publish / Hub.subscribe through the tag", () =>
    Effect.gen(function*() {
      const stream = yield* Hub.subscribe("news")
      yield* Hub.publish("news", bytes(42))
      expect(yield* take(stream, 1)).toEqual([42])
    }).pipe(Effect.provide(Hub.layer)))

  it.effect("a bad bufferSize is a defect at subscribe (a bug in the caller, not input from the network)", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Hub.make().subscribe("t", { bufferSize: 0 }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("bufferSize")
    }))
})
