/**
 * RedisHub against a real redis-server (core/test/nodeUtils.ts): two hubs in this process stand for two
 * server processes (each has its own id and its own two connections to Redis).
 */
import { describe, expect } from "@effect/vitest"
import { RedisHub } from "@bytechannel/redis"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Redis } from "ioredis"
import { proxy, redisServer } from "../../core/test/nodeUtils.js"
import { watch } from "../../core/test/utils.js"
import { collect, connected, connectedHub, inspector, itLive, numbers, publishAll, range } from "./hubHelpers.js"

const text = new TextEncoder()

/** redis-server's process, asked through `look`: SIGSTOP hangs it (it accepts TCP, answers nothing); SIGCONT with the scope at the latest. */
const redisProcess = (look: Redis) =>
  Effect.gen(function*() {
    const info = yield* Effect.promise(() => look.info("server"))
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1])
    const signal = (name: NodeJS.Signals) => Effect.sync(() => {
      try {
        process.kill(pid, name)
      } catch {
        // already gone
      }
    })
    yield* Effect.addFinalizer(() => signal("SIGCONT"))
    return { hang: signal("SIGSTOP"), resume: signal("SIGCONT") }
  })


describe("RedisHub against redis-server", () => {
  itLive("two processes: every message reaches every subscriber of both, once, in each publisher's order", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const a = yield* connectedHub({ url: redis.url })
      const b = yield* connectedHub({ url: redis.url })
      const onA = yield* collect(a.hub, "room")
      const onB = yield* collect(b.hub, "room")
      const onB2 = yield* collect(b.hub, "room")
      const elsewhere = yield* collect(b.hub, "other")
      yield* Effect.all([publishAll(a.hub, "room", "a", [0, 300]), publishAll(b.hub, "room", "b", [0, 300])], { concurrency: 2 })
      for (const got of [onA, onB, onB2]) {
        yield* got.until((items) => items.length >= 600, "600 messages")
        expect(numbers(got.items, "a")).toEqual(range(0, 300))
        expect(numbers(got.items, "b")).toEqual(range(0, 300))
        expect(got.items.length).toBe(600)
      }
      expect(elsewhere.items).toEqual([])
    }))

  itLive("a topic whose key holds another type (WRONGTYPE) is reported and left out, the other topics go on, and it is read once the key is gone", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() => look.set("bytechannel:hub:bad", "not a stream"))
      const a = yield* connectedHub({ url: redis.url, blockTimeout: "200 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "200 millis" })
      const bad = yield* collect(a.hub, "bad")
      const good = yield* collect(a.hub, "good")
      yield* publishAll(b.hub, "good", "b", [0, 50])
      yield* good.until((items) => items.length >= 50, "good's 50 messages")
      expect(numbers(good.items, "b")).toEqual(range(0, 50))
      yield* a.events.until((events) => events.some((e) => e._tag === "Unavailable" && e.topic === "bad" && e.type === "string"), "bad reported")
      expect(a.events.items.filter((e) => e._tag === "Disconnected")).toEqual([])
      // The foreign key goes: the topic is read (from its start) once the hub looks again.
      yield* Effect.promise(() => look.del("bytechannel:hub:bad"))
      yield* publishAll(b.hub, "bad", "b", [0, 3])
      yield* bad.until((items) => items.length >= 3, "bad's 3 messages")
      expect(numbers(bad.items, "b")).toEqual(range(0, 3))
      yield* publishAll(b.hub, "good", "b", [50, 53])
      yield* good.until((items) => items.length >= 53, "good's next 3")
    }))

  itLive("a topic subscribed while the reader waits in XREAD on others is read at once, even when that XREAD reaches Redis after the wake-up", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const slow = yield* proxy(redis.port, { match: "bytechannel-hub-reader-", millis: 300 })
      const a = yield* connectedHub({ url: redis.url })
      // b's reader blocks for up to 20 s: a new topic must not wait for that.
      const b = yield* connectedHub({ url: slow.url, blockTimeout: "20 seconds" })
      const first = yield* collect(b.hub, "first")
      yield* publishAll(a.hub, "first", "a", [0, 1])
      yield* first.until((items) => items.length === 1, "the message on the first topic")
      // b's reader has just sent its next XREAD, on "first" only: it reaches Redis 300 ms from now,
      // after anything b's command connection sends for the new topic.
      const second = yield* collect(b.hub, "second", undefined, "3 seconds")
      yield* publishAll(a.hub, "second", "a", [0, 1])
      yield* second.until((items) => items.length === 1, "the message on the new topic, well before blockTimeout")
      yield* publishAll(a.hub, "first", "a", [1, 2])
      yield* first.until((items) => items.length === 2, "the first topic still read")
    }))

  itLive("retention: a topic's stream expires idleTimeToLive after its last publish, refreshed by each; every key the hub writes expires", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const ttl = (key: string) => Effect.promise(() => look.pttl(key))
      const a = yield* connectedHub({ url: redis.url, idleTimeToLive: "60 seconds" })
      const b = yield* connectedHub({ url: redis.url })
      const onB = yield* collect(b.hub, "room")
      yield* publishAll(a.hub, "room", "a", [0, 1])
      yield* onB.until((items) => items.length === 1, "the first message")
      const first = yield* ttl("bytechannel:hub:room")
      expect(first).toBeGreaterThan(50_000)
      expect(first).toBeLessThanOrEqual(60_000)
      yield* Effect.promise(() => look.pexpire("bytechannel:hub:room", 5_000))
      yield* publishAll(a.hub, "room", "a", [1, 2])
      yield* onB.until((items) => items.length === 2, "the second message")
      expect(yield* ttl("bytechannel:hub:room")).toBeGreaterThan(50_000) // refreshed by the publish
      // The default (an hour), and b's wake stream (b subscribes while its reader waits in XREAD).
      const onA = yield* collect(a.hub, "lobby")
      yield* collect(b.hub, "news")
      yield* publishAll(b.hub, "lobby", "b", [0, 1])
      yield* onA.until((items) => items.length === 1, "b's message")
      const lobby = yield* ttl("bytechannel:hub:lobby")
      expect(lobby).toBeGreaterThan(3_500_000)
      expect(lobby).toBeLessThanOrEqual(3_600_000)
      const keys = yield* Effect.promise(() => look.keys("bytechannel:hub:*"))
      expect(keys.some((key) => key.includes("~wake:"))).toBe(true)
      const forever: Array<string> = []
      for (const key of keys) if ((yield* ttl(key)) < 0) forever.push(key) // -1: no expiry
      expect(forever).toEqual([])
      // Infinity: no expiry on the topics it publishes (MAXLEN still bounds them), never a defect.
      const c = yield* connectedHub({ url: redis.url, idleTimeToLive: Infinity })
      const onA2 = yield* collect(a.hub, "archive")
      yield* publishAll(c.hub, "archive", "c", [0, 1])
      yield* onA2.until((items) => items.length === 1, "c's message")
      expect(yield* ttl("bytechannel:hub:archive")).toBe(-1)
    }))

  itLive("Redis hung (SIGSTOP): each connection attempt gives up at connectTimeout, ready check included, the schedule keeps trying, and the hub is back after SIGCONT", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const server = yield* redisProcess(look)
      const failures = watch<RedisHub.RedisError>("10 seconds")
      const schedule = Schedule.spaced("100 millis").pipe(
        Schedule.tap((meta) => Effect.sync(() => failures.push(meta.input as RedisHub.RedisError)))
      )
      const a = yield* connectedHub({ url: redis.url, commandTimeout: "500 millis", connectTimeout: "500 millis", schedule })
      const b = yield* connectedHub({ url: redis.url })
      const onB = yield* collect(b.hub, "room")
      yield* server.hang
      yield* publishAll(a.hub, "room", "a", [0, 1]) // its XADD gets no reply: a's session ends
      // TCP is accepted (the kernel's backlog) but the handshake and the ready check get no answer.
      const given = (errors: ReadonlyArray<RedisHub.RedisError>) =>
        errors.filter((e) => e.reason === "Timeout" && e.detail.includes("not connected and ready within")).length
      yield* failures.until((errors) => given(errors) >= 3, "three connection attempts given up at connectTimeout")
      yield* server.resume
      yield* a.events.until((events) => events.filter((e) => e._tag === "Connected").length >= 2, "a to reconnect")
      yield* onB.until((items) => items.includes("a:0"), "the message published while Redis hung")
      yield* publishAll(a.hub, "room", "a", [1, 2])
      yield* onB.until((items) => items.includes("a:1"), "a message after")
      expect(numbers(onB.items, "a")).toEqual([0, 1])
    }), 30_000)

  itLive("closing a hub while Redis hangs takes about commandTimeout, not longer", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const server = yield* redisProcess(look)
      const [elapsed] = yield* Effect.timed(Effect.scoped(Effect.gen(function*() {
        const a = yield* connectedHub({ url: redis.url, commandTimeout: "300 millis", connectTimeout: "300 millis" })
        yield* collect(a.hub, "room")
        yield* server.hang
        yield* publishAll(a.hub, "room", "a", [0, 10]) // and a closes at once: its last XADD gets no reply
      })))
      yield* server.resume
      expect(Duration.toMillis(elapsed)).toBeLessThan(2_000)
    }))

  itLive("Redis killed and restarted: local delivery goes on, then nothing is lost (the outbox, the replay) and nothing is doubled", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const a = yield* connectedHub({ url: redis.url })
      const b = yield* connectedHub({ url: redis.url })
      const onA = yield* collect(a.hub, "room")
      const onB = yield* collect(b.hub, "room")
      // A stream of messages, and Redis dies under it: some read by b, some in flight, some queued.
      const publisher = yield* Effect.forkChild(Effect.forEach(range(0, 200), (i) => Effect.andThen(Effect.yieldNow, a.hub.publish("room", text.encode(`a:${i}`))), { discard: true }))
      yield* onB.until((items) => items.length >= 20, "b to have heard a few")
      yield* redis.kill
      yield* Fiber.join(publisher)
      yield* a.events.until((e) => e.some((x) => x._tag === "Disconnected"), "a to notice")
      yield* b.events.until((e) => e.some((x) => x._tag === "Disconnected"), "b to notice")
      // While Redis is down: each process serves its own subscribers.
      yield* publishAll(a.hub, "room", "a", [200, 300])
      yield* publishAll(b.hub, "room", "b", [0, 100])
      yield* onA.until((items) => numbers(items, "a").length === 300, "a's own 300 locally")
      yield* onB.until((items) => numbers(items, "b").length === 100, "b's own 100 locally")
      expect(numbers(onA.items, "b")).toEqual([]) // nothing crossed without Redis
      yield* redis.restart
      yield* a.events.until(connected(true), "a to reconnect to the new Redis")
      yield* b.events.until(connected(true), "b to reconnect to the new Redis")
      yield* onB.until((items) => numbers(items, "a").length >= 300, "b to get all of a's")
      yield* onA.until((items) => numbers(items, "b").length >= 100, "a to get all of b's")
      // One more round trip through the new Redis, so that any late duplicate would have arrived.
      yield* publishAll(a.hub, "room", "a", [300, 301])
      yield* onB.until((items) => numbers(items, "a").includes(300), "the last one")
      expect(numbers(onB.items, "a")).toEqual(range(0, 301))
      expect(numbers(onA.items, "b")).toEqual(range(0, 100))
      expect([...a.events.items, ...b.events.items].filter((e) => e._tag === "Lost")).toEqual([])
    }), 30_000)

  // Deterministic: b is held back (its connections frozen at a proxy) while Redis acknowledges a's
  // messages; Redis then dies without persistence, so only a's replay can bring them to b.
  for (const replaySize of [1000, 0]) {
    itLive(`acknowledged but unread when Redis restarts: ${replaySize ? "the replay delivers them" : "without a replay they are lost, and reported"}`, () =>
      Effect.gen(function*() {
        const redis = yield* redisServer
        const door = yield* proxy(redis.port)
        const look = yield* inspector(redis.url)
        const a = yield* connectedHub({ url: redis.url, replaySize })
        const b = yield* connectedHub({ url: door.url })
        const onB = yield* collect(b.hub, "room")
        yield* publishAll(a.hub, "room", "a", [0, 1])
        yield* onB.until((items) => items.length === 1, "the first message")
        yield* door.freeze
        yield* publishAll(a.hub, "room", "a", [1, 11])
        for (let i = 0; i < 200 && (yield* Effect.promise(() => look.xlen("bytechannel:hub:room"))) < 11; i++) yield* Effect.yieldNow
        expect(yield* Effect.promise(() => look.xlen("bytechannel:hub:room"))).toBe(11)
        yield* Effect.sync(() => look.disconnect())
        yield* redis.kill
        yield* redis.restart
        yield* door.cut
        yield* a.events.until(connected(true), "a to reach the new Redis")
        yield* b.events.until(connected(true), "b to reach the new Redis")
        yield* publishAll(a.hub, "room", "a", [11, 12])
        yield* onB.until((items) => items.includes("a:11"), "the message after the restart")
        if (replaySize > 0) {
          expect(numbers(onB.items, "a")).toEqual(range(0, 12))
        } else {
          expect(numbers(onB.items, "a")).toEqual([0, 11])
          expect(b.events.items.filter((e) => e._tag === "Lost")).toEqual([RedisHub.RedisHubEvent.Lost({ topic: "room", count: 10 })])
        }
      }), 30_000)
  }

  itLive("a bounded outbox while Redis is down: the oldest are dropped and counted, the reader reports the gap", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const a = yield* connectedHub({ url: redis.url, outboxSize: 5 })
      const b = yield* connectedHub({ url: redis.url })
      const onB = yield* collect(b.hub, "room")
      yield* publishAll(a.hub, "room", "a", [0, 1])
      yield* onB.until((items) => items.length === 1, "the first message")
      yield* redis.kill
      yield* a.events.until((e) => e.some((x) => x._tag === "Disconnected"), "a to notice")
      yield* publishAll(a.hub, "room", "a", [1, 21])
      yield* redis.restart
      yield* onB.until((items) => items.includes("a:20"), "the last one")
      expect(numbers(onB.items, "a")).toEqual([0, 16, 17, 18, 19, 20])
      const droppedCount = a.events.items.reduce((n, e) => n + (e._tag === "Dropped" ? e.count : 0), 0)
      expect(droppedCount).toBe(15)
      expect(b.events.items.filter((e) => e._tag === "Lost")).toEqual([RedisHub.RedisHubEvent.Lost({ topic: "room", count: 15 })])
    }), 30_000)

  itLive("a reader held back past the stream's MAXLEN misses the trimmed entries and says how many", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const door = yield* proxy(redis.port)
      const a = yield* connectedHub({ url: redis.url, maxLen: 100 })
      const b = yield* connectedHub({ url: door.url })
      const onB = yield* collect(b.hub, "room")
      yield* publishAll(a.hub, "room", "a", [0, 1])
      yield* onB.until((items) => items.length === 1, "the first message")
      yield* door.freeze
      yield* publishAll(a.hub, "room", "a", [1, 1001])
      yield* door.cut // b reconnects (same Redis) and resumes from its last id
      yield* onB.until((items) => items.includes("a:1000"), "the last one")
      const got = numbers(onB.items, "a")
      const lostCount = b.events.items.reduce((n, e) => n + (e._tag === "Lost" ? e.count : 0), 0)
      expect(lostCount).toBeGreaterThan(0)
      expect(got.length + lostCount).toBe(1001)
      expect(got).toEqual([...got].sort((x, y) => x - y)) // still in order
    }), 30_000)

  itLive("closing a hub sends what it still holds for Redis", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const b = yield* connectedHub({ url: redis.url })
      const onB = yield* collect(b.hub, "room")
      yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* connectedHub({ url: redis.url })
        yield* publishAll(a.hub, "room", "a", [0, 50]) // and a closes at once
      }))
      yield* onB.until((items) => items.length === 50, "all 50 from the closed hub")
      expect(numbers(onB.items, "a")).toEqual(range(0, 50))
    }))

  itLive("a slow subscriber: its own bound and policy, the others get everything", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const a = yield* connectedHub({ url: redis.url })
      const b = yield* connectedHub({ url: redis.url })
      const stuck = yield* b.hub.subscribe("room", { bufferSize: 8, overflow: "fail" })
      const onB = yield* collect(b.hub, "room")
      yield* publishAll(a.hub, "room", "a", [0, 100])
      yield* onB.until((items) => items.length === 100, "all 100")
      const error = yield* Effect.flip(Stream.runDrain(stuck))
      expect(error.reason).toBe("Overflow")
    }))

  itLive("reconnecting follows the schedule: when it gives up, the hub says so and keeps serving locally", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const a = yield* connectedHub({ url: redis.url, schedule: Schedule.spaced("20 millis").pipe(Schedule.upTo({ times: 3 })) })
      const onA = yield* collect(a.hub, "room")
      yield* redis.kill
      yield* a.events.until((e) => e.some((x) => x._tag === "GaveUp"), "a to give up")
      yield* publishAll(a.hub, "room", "a", [0, 3])
      yield* onA.until((items) => items.length === 3, "local delivery")
    }))
})
