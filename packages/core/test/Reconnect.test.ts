import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec, Reconnect, SocketError, TestConnector } from "@bytechannel/core"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { awaitSuspended } from "./utils.js"

const refused = (status?: number) =>
  TestConnector.layerWith(() => Effect.void, {
    accept: () => Effect.fail(new SocketError.SocketError({ reason: "Open", status, detail: "refused" }))
  })

/** Drives the TestClock until `done()` holds, in bounded steps of `step`. */
const advanceUntil = (done: () => boolean, step: Duration.DurationInput = "1 second", limit = 500) =>
  Effect.gen(function*() {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust(step)
      yield* Effect.yieldNow()
    }
    expect(done()).toBe(true)
  })

/** Every session's read until it ends, the error (if any) swallowed so the next session follows. */
const drainSessions = <R>(stream: Stream.Stream<ByteChannel.ByteChannel, SocketError.SocketError, R>) =>
  stream.pipe(Stream.runForEach((channel) => Stream.runDrain(channel.read).pipe(Effect.ignore)))

describe("Reconnect.sessions", () => {
  it.effect("delays follow the schedule: exponential from 500 ms, capped at 30 s, full jitter", () =>
    Effect.gen(function*() {
      const events: Array<Reconnect.ReconnectEvent> = []
      const fiber = yield* Effect.fork(
        drainSessions(Reconnect.sessions("ws://x/", { onEvent: (e) => Effect.sync(() => events.push(e)) })).pipe(
          Effect.provide(refused())
        )
      )
      const retries = () => events.filter((e): e is Extract<Reconnect.ReconnectEvent, { _tag: "Retrying" }> => e._tag === "Retrying")
      yield* advanceUntil(() => retries().length >= 14, "5 seconds")
      yield* Fiber.interrupt(fiber)
      const delays = retries().map((e) => Duration.toMillis(e.delay))
      delays.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(0)
        expect(delay).toBeLessThanOrEqual(Math.min(30_000, 500 * 2 ** i))
      })
      // Jittered: not simply the exponential sequence.
      expect(delays.slice(0, 8)).not.toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
      // Capped, yet still growing past the first steps on average.
      expect(delays.slice(10).some((d) => d > 1000)).toBe(true)
      expect(retries().map((e) => e.attempt).slice(0, 3)).toEqual([1, 2, 3])
    }))

  it.effect("the attempt counter resets only after a session stayed up for minUptime", () =>
    Effect.gen(function*() {
      let connections = 0
      const attempts: Array<number> = []
      const layer = TestConnector.layer((channel) =>
        Effect.gen(function*() {
          connections++
          // Sessions 1-2 drop at once; session 3 stays up 6 s (more than minUptime); then 4 and 5 drop at once.
          if (connections === 3) yield* Effect.sleep("6 seconds")
          yield* channel.socket.closeWithProtocolCode({ code: 1011 })
        })
      )
      const fiber = yield* Effect.fork(
        drainSessions(Reconnect.sessions("ws://x/", {
          minUptime: "5 seconds",
          onEvent: (e) => Effect.sync(() => e._tag === "Connecting" && attempts.push(e.attempt))
        })).pipe(Effect.provide(layer))
      )
      yield* advanceUntil(() => attempts.length >= 6, "1 second")
      yield* Fiber.interrupt(fiber)
      expect(attempts.slice(0, 6)).toEqual([1, 2, 3, 1, 2, 3])
    }))

  it.effect("a terminal close code ends the sessions with its error, without retrying", () =>
    Effect.gen(function*() {
      let connections = 0
      const events: Array<string> = []
      const exit = yield* drainSessions(Reconnect.sessions("ws://x/", {
        onEvent: (e) => Effect.sync(() => events.push(e._tag === "GaveUp" ? `GaveUp:${e.reason}` : e._tag))
      })).pipe(
        Effect.provide(TestConnector.layer((channel) =>
          Effect.sync(() => connections++).pipe(Effect.zipRight(channel.close({ code: 4001, reason: "go away" })))
        )),
        Effect.exit
      )
      expect(connections).toBe(1)
      expect(exit).toMatchObject({ _tag: "Failure" })
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("4001")
      expect(events).toEqual(["Connecting", "Connected", "Disconnected", "GaveUp:TerminalCode"])
    }))

  it.effect("a clean close by the server (1000) ends the sessions without an error", () =>
    Effect.gen(function*() {
      let connections = 0
      yield* drainSessions(Reconnect.sessions("ws://x/")).pipe(
        Effect.provide(TestConnector.layer(() => Effect.sync(() => connections++)))
      )
      expect(connections).toBe(1)
    }))

  it.effect("an HTTP 401 refusal ends the sessions with the Open error after one attempt", () =>
    Effect.gen(function*() {
      const events: Array<string> = []
      const error = yield* drainSessions(Reconnect.sessions("ws://x/", {
        onEvent: (e) => Effect.sync(() => events.push(e._tag))
      })).pipe(Effect.provide(refused(401)), Effect.flip)
      expect(error).toMatchObject({ _tag: "SocketError", reason: "Open", status: 401 })
      expect(events).toEqual(["Connecting", "GaveUp"])
    }))

  it.effect("interruption during a backoff is clean", () =>
    Effect.gen(function*() {
      const retrying = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(drainSessions(Reconnect.sessions("ws://x/", {
        onEvent: (e) => e._tag === "Retrying" ? Deferred.succeed(retrying, undefined) : Effect.void
      })).pipe(Effect.provide(refused())))
      yield* Deferred.await(retrying)
      yield* awaitSuspended(fiber)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))

  it.effect("interruption while connecting is clean", () =>
    Effect.gen(function*() {
      const connecting = yield* Deferred.make<void>()
      const layer = TestConnector.layerWith(() => Effect.void, { accept: () => Effect.zipRight(Deferred.succeed(connecting, undefined), Effect.never) })
      const fiber = yield* Effect.fork(drainSessions(Reconnect.sessions("ws://x/")).pipe(Effect.provide(layer)))
      yield* Deferred.await(connecting)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))
})

describe("Reconnect.framed", () => {
  const unreachable = refused()

  it.scoped("outbox policy \"fail\": a send over the bound fails with NotSent OutboxFull", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2, outboxPolicy: "fail" })
      yield* Effect.fork(framed.send("a"))
      yield* Effect.fork(framed.send("b"))
      yield* Effect.yieldNow()
      expect(yield* framed.pending).toBe(2)
      expect(yield* Effect.flip(framed.send("c"))).toMatchObject({ _tag: "NotSent", reason: "OutboxFull" })
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.scoped("outbox policy \"dropOldest\": the oldest send fails with Dropped, the bound holds", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2, outboxPolicy: "dropOldest" })
      const first = yield* Effect.fork(framed.send("a"))
      yield* Effect.fork(framed.send("b"))
      yield* Effect.yieldNow()
      yield* Effect.fork(framed.send("c"))
      expect(yield* Effect.flip(Fiber.join(first))).toMatchObject({ _tag: "NotSent", reason: "Dropped" })
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.scoped("outbox policy \"suspend\" (default): a send over the bound waits", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2 })
      yield* Effect.fork(framed.send("a"))
      yield* Effect.fork(framed.send("b"))
      yield* Effect.yieldNow()
      const third = yield* Effect.fork(framed.send("c"))
      yield* awaitSuspended(third)
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.scoped("an encoding error fails send before anything is queued", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines({ maxLength: 2 }), {})
      expect(yield* Effect.flip(framed.send("too long"))).toMatchObject({ _tag: "FrameTooLarge" })
      expect(yield* framed.pending).toBe(0)
    }).pipe(Effect.provide(unreachable)))

  it.live("messages continue across sessions; every send is delivered once or reported, in order, none twice", () =>
    Effect.gen(function*() {
      // The server echoes three lines per connection, then drops it (1011): many reconnects.
      const layer = TestConnector.layer((channel) =>
        Effect.gen(function*() {
          const lines = ByteChannel.framed(channel, Codec.lines())
          yield* lines.messages.pipe(Stream.take(3), Stream.run(lines.sink))
          yield* channel.socket.closeWithProtocolCode({ code: 1011 })
        })
      )
      const result = yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { schedule: undefined, minUptime: "1 millis" })
        const outcomes: Array<boolean> = []
        for (let i = 0; i < 30; i++) outcomes.push(Exit.isSuccess(yield* Effect.exit(framed.send(`m${i}`))))
        const delivered = outcomes.filter(Boolean).length
        const echoes = yield* framed.messages.pipe(Stream.take(Math.min(delivered, 20)), Stream.runCollect, Effect.timeout("5 seconds"), Effect.orElseSucceed(() => Chunk.empty<string>()))
        return { outcomes, echoes: Chunk.toReadonlyArray(echoes) }
      }).pipe(Effect.scoped, Effect.provide(layer))
      // Echoed messages are a subsequence of what was sent, in order, with no duplicates.
      const numbers = result.echoes.map((m) => Number(m.slice(1)))
      expect(new Set(numbers).size).toBe(numbers.length)
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers)
      expect(numbers.length).toBeGreaterThan(3) // more than one session's worth arrived
      expect(result.outcomes.every((sent) => sent)).toBe(true)
    }))

  it.scoped("heartbeat: a silent peer is dropped after idleTimeout and the sessions reconnect; pongs keep it and stay out of messages", () =>
    Effect.suspend(() => {
      let connections = 0
      const events: Array<string> = []
      // Connection 1 never says anything; later ones answer "ping" with "pong" and send "hello".
      const layer = TestConnector.layer((channel) =>
        Effect.gen(function*() {
          connections++
          const lines = ByteChannel.framed(channel, Codec.lines())
          if (connections === 1) return yield* Stream.runDrain(lines.messages)
          yield* lines.send("hello")
          yield* lines.messages.pipe(Stream.filter((m) => m === "ping"), Stream.map(() => "pong"), Stream.run(lines.sink))
        })
      )
      return Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), {
        schedule: Schedule.spaced("1 second"),
        heartbeat: { interval: "1 second", idleTimeout: "3 seconds", ping: "ping", isHeartbeat: (m) => m === "ping" || m === "pong" },
        onEvent: (e) => Effect.sync(() => events.push(e._tag === "Disconnected" ? `Disconnected:${e.info.code}` : e._tag))
      })
      const first = yield* Effect.fork(framed.messages.pipe(Stream.take(1), Stream.runCollect))
      yield* advanceUntil(() => connections >= 2, "500 millis")
      expect(events).toContain("Disconnected:1006")
      expect(Chunk.toReadonlyArray(yield* Fiber.join(first))).toEqual(["hello"])
      // The answering peer survives many idle timeouts' worth of time.
      yield* TestClock.adjust("20 seconds")
      expect(connections).toBe(2)
      }).pipe(Effect.provide(layer))
    }))
})
