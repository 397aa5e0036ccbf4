/**
 * RedisHub and keys of another type than a stream under its names (Redis's WRONGTYPE), against a
 * real redis-server: every key type, keys replaced mid-session, the wake key, publishes and the
 * replay, and the races around the TYPE look.
 */
import { describe, expect } from "@effect/vitest"
import { RedisHub } from "@bytechannel/redis"
import * as Effect from "effect/Effect"
import { proxy, redisServer } from "../../core/test/nodeUtils.js"
import { watch } from "../../core/test/utils.js"
import { collect, connectedHub, DEADLINE, inspector, itLive, numbers, publishAll, range } from "./hubHelpers.js"

const unavailable = (topic: string, type?: string) => (events: ReadonlyArray<RedisHub.RedisHubEvent>) =>
  events.some((e) => e._tag === "Unavailable" && e.topic === topic && (type === undefined || e.type === type))

const count = (events: ReadonlyArray<RedisHub.RedisHubEvent>, tag: RedisHub.RedisHubEvent["_tag"]) => events.filter((e) => e._tag === tag).length


describe("RedisHub and keys of another type", () => {
  // DEFECT: xadd's pipeline PEXPIREs every topic it wrote to, whether or not its XADD failed: a
  // publish on a topic whose key is someone else's (a string here) gives that key an expiry.
  itLive("a publish on a topic whose key holds another type drops the message and leaves that foreign key alone (no PEXPIRE)", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() => look.set("bytechannel:hub:foreign", "someone else's value"))
      const b = yield* connectedHub({ url: redis.url, idleTimeToLive: "2 seconds" })
      yield* publishAll(b.hub, "foreign", "b", [0, 1])
      yield* b.events.until((events) => events.some((e) => e._tag === "Dropped"), "the publish dropped")
      expect(yield* Effect.promise(() => look.get("bytechannel:hub:foreign"))).toBe("someone else's value")
      expect(yield* Effect.promise(() => look.pttl("bytechannel:hub:foreign"))).toBe(-1) // got ~2000
    }))

  // DEFECT: the read loop's WRONGTYPE path looks only at the topics' keys; when the culprit is
  // this process's own wake stream, every session fails at its first XREAD and the hub reconnects
  // (schedule reset by each successful connect, ~100 ms) forever, never reading any topic.
  itLive("a wake key holding another type does not stop every topic (the hub reads its topics)", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() => look.set("bytechannel:hub:~wake:wake-test", "x"))
      const a = yield* connectedHub({ url: redis.url, nodeId: "wake-test", blockTimeout: "200 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "200 millis" })
      const good = yield* collect(a.hub, "good", undefined, "5 seconds")
      yield* publishAll(b.hub, "good", "b", [0, 3])
      yield* good.until((items) => items.length >= 3, "good's 3 messages")
      expect(numbers(good.items, "b")).toEqual(range(0, 3))
    }))

  // Held: each of the other types is reported with its type, once, while a good topic goes on.
  itLive("hash, list, set and zset keys are each reported once with their type; the good topic goes on without a disconnect", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() =>
        look.multi().hset("bytechannel:hub:h", "f", "v").rpush("bytechannel:hub:l", "x").sadd("bytechannel:hub:s", "x").zadd("bytechannel:hub:z", 1, "x").exec()
      )
      const a = yield* connectedHub({ url: redis.url, blockTimeout: "100 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "100 millis" })
      for (const topic of ["h", "l", "s", "z"]) yield* collect(a.hub, topic)
      const good = yield* collect(a.hub, "good")
      for (const [topic, type] of [["h", "hash"], ["l", "list"], ["s", "set"], ["z", "zset"]] as const) {
        yield* a.events.until(unavailable(topic, type), `${topic} reported as ${type}`)
      }
      yield* publishAll(b.hub, "good", "b", [0, 20])
      yield* good.until((items) => items.length >= 20, "good's messages")
      // Several re-checks (blockTimeout 100 ms) later: still one report each, no disconnect.
      yield* publishAll(b.hub, "good", "b", [20, 21])
      yield* good.until((items) => items.length >= 21, "good's next")
      expect(count(a.events.items, "Unavailable")).toBe(4)
      expect(count(a.events.items, "Disconnected")).toBe(0)
    }))

  // Held: DEL + SET mid-session, publishes dropped at the publisher, then the key goes and the
  // topic is read again from its start, each message once.
  itLive("a stream replaced mid-session by a string: reported, publishes dropped, then read again once gone; nothing doubled", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const a = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      const flip = yield* collect(a.hub, "flip")
      const good = yield* collect(a.hub, "good")
      yield* publishAll(b.hub, "flip", "b", [0, 5])
      yield* flip.until((items) => items.length >= 5, "flip's first 5")
      yield* Effect.promise(() => look.multi().del("bytechannel:hub:flip").set("bytechannel:hub:flip", "v").exec())
      yield* publishAll(b.hub, "flip", "b", [5, 8]) // dropped: the key is a string
      yield* b.events.until((events) => events.some((e) => e._tag === "Dropped"), "b's publishes dropped")
      yield* publishAll(b.hub, "good", "b", [0, 1])
      yield* good.until((items) => items.length >= 1, "good goes on")
      yield* a.events.until(unavailable("flip", "string"), "flip reported")
      yield* Effect.promise(() => look.del("bytechannel:hub:flip"))
      yield* publishAll(b.hub, "flip", "b", [8, 10])
      yield* flip.until((items) => items.length >= 7, "flip's next 2")
      expect(numbers(flip.items, "b")).toEqual([0, 1, 2, 3, 4, 8, 9])
      yield* a.events.until((events) => events.some((e) => e._tag === "Lost" && e.topic === "flip" && e.count === 3), "the 3 dropped counted as lost")
      expect(count(a.events.items, "Disconnected")).toBe(0)
    }))

  // Held: unsubscribed while unavailable, subscribed again: reported again, read once the key goes.
  itLive("an unavailable topic unsubscribed and subscribed again is reported again and read once its key goes", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() => look.set("bytechannel:hub:bad", "x"))
      const a = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* collect(a.hub, "bad")
        yield* collect(a.hub, "bad")
        yield* a.events.until(unavailable("bad"), "bad reported")
      }))
      const again = yield* collect(a.hub, "bad")
      yield* a.events.until((events) => events.filter(unavailableTag("bad")).length >= 2, "bad reported again")
      yield* Effect.promise(() => look.del("bytechannel:hub:bad"))
      yield* publishAll(b.hub, "bad", "b", [0, 2])
      yield* again.until((items) => items.length >= 2, "bad's 2 messages")
      expect(numbers(again.items, "b")).toEqual([0, 1])
    }))
})

const unavailableTag = (topic: string) => (e: RedisHub.RedisHubEvent) => e._tag === "Unavailable" && e.topic === topic

/** Every command Redis runs, as its arguments (MONITOR), watched. */
const monitor = (url: string) =>
  Effect.gen(function*() {
    const seen = watch<ReadonlyArray<string>>(DEADLINE)
    const client = yield* inspector(url)
    const mon = yield* Effect.promise(() => client.monitor())
    yield* Effect.addFinalizer(() => Effect.sync(() => mon.disconnect()))
    mon.on("monitor", (_time: string, args: Array<string>) => seen.push(args.map(String)))
    // MONITOR is on once it reports a command of ours.
    yield* Effect.promise(() => client.ping("review3-monitor-on"))
    yield* seen.until((all) => all.some((args) => args.includes("review3-monitor-on")), "MONITOR on")
    return seen
  })

const xreadOn = (streamKey: string) => (args: ReadonlyArray<string>) => args[0]?.toLowerCase() === "xread" && args.includes(streamKey)
const typeOn = (streamKey: string) => (args: ReadonlyArray<string>) => args[0]?.toLowerCase() === "type" && args[1] === streamKey

describe("RedisHub, keys of another type, and a Redis restart", () => {
  // DEFECT (minor, semantics): publishes refused with WRONGTYPE (reported Dropped) still go into
  // the replay ring (writeLoop pushes every inflight entry), so after a Redis restart they are
  // added again and delivered, late, to the topic's readers.
  itLive("publishes dropped on a wrong-typed key are not brought back by the replay after a Redis restart", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      yield* Effect.promise(() => look.set("bytechannel:hub:bad", "x"))
      const a = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "150 millis" })
      const bad = yield* collect(a.hub, "bad")
      yield* a.events.until(unavailable("bad"), "bad reported")
      yield* publishAll(b.hub, "bad", "b", [0, 3])
      yield* b.events.until((events) => events.filter((e) => e._tag === "Dropped").reduce((n, e) => n + (e as { count: number }).count, 0) >= 3, "b's 3 publishes dropped")
      yield* redis.kill
      yield* redis.restart
      yield* b.events.until((events) => events.some((e) => e._tag === "Connected" && e.restarted), "b back")
      yield* a.events.until((events) => events.some((e) => e._tag === "Connected" && e.restarted), "a back")
      yield* publishAll(b.hub, "bad", "b", [3, 4])
      yield* bad.until((items) => items.includes("b:3"), "the publish after the restart")
      expect(numbers(bad.items, "b")).toEqual([3])
    }), 30_000)
})

describe("RedisHub: races around the TYPE look (the reader's commands held 300 ms by a proxy)", () => {
  // DEFECT (minor): the culprit goes between the failed XREAD and the TYPE look: found is empty and
  // the session is failed (Disconnected, both connections dropped, reconnect) though nothing is wrong.
  itLive("a wrong-typed key deleted between the failed XREAD and the TYPE look does not end the session", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const seen = yield* monitor(redis.url)
      const slow = yield* proxy(redis.port, { match: "bytechannel-hub-reader-", millis: 300 })
      yield* Effect.promise(() => look.set("bytechannel:hub:bad", "x"))
      const a = yield* connectedHub({ url: slow.url, blockTimeout: "200 millis" })
      const b = yield* connectedHub({ url: redis.url, blockTimeout: "200 millis" })
      const good = yield* collect(a.hub, "good")
      const bad = yield* collect(a.hub, "bad")
      // The XREAD with bad's key runs (and fails) now; the reader's TYPE reaches Redis 300 ms later.
      yield* seen.until((all) => all.some(xreadOn("bytechannel:hub:bad")), "an XREAD on bad's key")
      yield* Effect.promise(() => look.del("bytechannel:hub:bad"))
      yield* seen.until((all) => all.some(typeOn("bytechannel:hub:bad")), "the TYPE look")
      yield* publishAll(b.hub, "bad", "b", [0, 1])
      yield* publishAll(b.hub, "good", "b", [0, 1])
      yield* bad.until((items) => items.length >= 1, "bad's message")
      yield* good.until((items) => items.length >= 1, "good's message")
      expect(a.events.items.filter((e) => e._tag === "Disconnected")).toEqual([])
    }))

  // DEFECT (minor): a topic unsubscribed while the TYPE look is out is still added to `unavailable`
  // (reported, and looked at every blockTimeout for as long as its key stays wrong-typed).
  itLive("a topic unsubscribed while the TYPE look is out is not reported nor kept as unavailable", () =>
    Effect.gen(function*() {
      const redis = yield* redisServer
      const look = yield* inspector(redis.url)
      const seen = yield* monitor(redis.url)
      const slow = yield* proxy(redis.port, { match: "bytechannel-hub-reader-", millis: 300 })
      yield* Effect.promise(() => look.set("bytechannel:hub:bad", "x"))
      const a = yield* connectedHub({ url: slow.url, blockTimeout: "200 millis" })
      yield* collect(a.hub, "good")
      let subscribed = true
      const reportedUnsubscribed: Array<RedisHub.RedisHubEvent> = []
      yield* Effect.scoped(Effect.gen(function*() {
        yield* collect(a.hub, "bad")
        yield* seen.until((all) => all.some(xreadOn("bytechannel:hub:bad")), "an XREAD on bad's key")
      }))
      subscribed = false
      const mark = a.events.items.length
      yield* seen.until((all) => all.some(typeOn("bytechannel:hub:bad")), "the TYPE look")
      // The reader's next XREAD: the look's outcome has been acted on by then.
      const after = seen.items.length
      yield* seen.until((all) => all.slice(after).some(xreadOn("bytechannel:hub:good")), "the next XREAD")
      reportedUnsubscribed.push(...a.events.items.slice(mark).filter(unavailableTag("bad")))
      expect(subscribed).toBe(false)
      expect(reportedUnsubscribed).toEqual([])
    }))
})
