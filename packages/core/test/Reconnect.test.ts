import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec, Reconnect, SocketError, TestConnector } from "@bytechannel/core"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { awaitSuspended } from "./utils.js"

const refused = (status?: number) =>
  TestConnector.layerWith(() => Effect.void, {
    accept: () => Effect.fail(new SocketError.SocketError({ reason: "Open", status, detail: "refused" }))
  })

/**
 * Forks `effect` and runs it at once until it suspends: a forked `send` has queued its message
 * (or been refused) by the time this returns.
 */
const forkNow = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.forkChild(effect, { startImmediately: true })

/** Drives the TestClock until `done()` holds, in bounded steps of `step`. */
const advanceUntil = (done: () => boolean, step: Duration.Input = "1 second", limit = 500) =>
  Effect.gen(function*() {
    for (let i = 0; i < limit && !done(); i++) {
      yield* TestClock.adjust(step)
      yield* Effect.yieldNow
    }
    expect(done()).toBe(true)
  })

/**
 * A server whose connection reads nothing until `release`, then collects lines into
 * `received`; its memory pair holds one message, so a second send waits on the socket.
 */
const heldServer = Effect.gen(function*() {
  const release = yield* Deferred.make<void>()
  const received: Array<string> = []
  const server = TestConnector.layerWith((channel) =>
    Effect.andThen(
      Deferred.await(release),
      ByteChannel.framed(channel, Codec.lines()).messages.pipe(
        Stream.runForEach((line) => Effect.sync(() => received.push(line)))
      )
    ), { pair: { capacity: 1 } })
  return { release, received, server }
})

/** Every session's read until it ends, the error (if any) swallowed so the next session follows. */
const drainSessions = <R>(stream: Stream.Stream<ByteChannel.ByteChannel, SocketError.SocketError, R>) =>
  stream.pipe(Stream.runForEach((channel) => Stream.runDrain(channel.read).pipe(Effect.ignore)))

/** Each event as a short string: its tag, with the close code or the reason for giving up. */
const record = (events: Array<string>) => (e: Reconnect.ReconnectEvent) =>
  Effect.sync(() => {
    events.push(e._tag === "GaveUp" ? `GaveUp:${e.reason}` : e._tag === "Disconnected" ? `Disconnected:${e.info.code}` : e._tag)
  })

/**
 * Runs the sessions against a server that closes connection 1 with `code` and connection 2
 * cleanly (1000), so they end either way; the clock is driven until they give up.
 */
const firstClosedWith = (code: number, options?: Reconnect.ReconnectOptions) =>
  Effect.gen(function*() {
    let connections = 0
    const events: Array<string> = []
    const layer = TestConnector.layer((channel) =>
      ++connections === 1 ? channel.socket.closeWithProtocolCode({ code, reason: "bye" }) : Effect.void
    )
    const fiber = yield* drainSessions(Reconnect.sessions("ws://x/", {
      schedule: Schedule.spaced("1 second"),
      ...options,
      onEvent: record(events)
    })).pipe(Effect.provide(layer), Effect.forkChild)
    yield* advanceUntil(() => events.some((e) => e.startsWith("GaveUp")))
    const exit = yield* Fiber.await(fiber)
    return { connections, events, exit }
  })

describe("Reconnect.sessions", () => {
  it.effect("delays follow the schedule: exponential from 500 ms, capped at 30 s, full jitter", () =>
    Effect.gen(function*() {
      const events: Array<Reconnect.ReconnectEvent> = []
      const fiber = yield* Effect.forkChild(
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
      const fiber = yield* Effect.forkChild(
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
          Effect.sync(() => connections++).pipe(Effect.andThen(channel.close({ code: 4001, reason: "go away" })))
        )),
        Effect.exit
      )
      expect(connections).toBe(1)
      expect(exit).toMatchObject({ _tag: "Failure" })
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain("4001")
      expect(events).toEqual(["Connecting", "Connected", "Disconnected", "GaveUp:TerminalCode"])
    }))

  // The rule for terminal codes, at every edge: the defaults (1008, 1009, 4000–4099) end the
  // sessions at once; every other code the server may send is retried.
  for (const code of [1008, 1009, 4000, 4001, 4050, 4099]) {
    it.effect(`close code ${code} from the server is terminal: no new session, GaveUp TerminalCode, the sessions fail with it`, () =>
      Effect.gen(function*() {
        const run = yield* firstClosedWith(code)
        expect(run.connections).toBe(1)
        expect(run.events).toEqual(["Connecting", "Connected", `Disconnected:${code}`, `GaveUp:TerminalCode`])
        expect(Exit.isFailure(run.exit) && Cause.findErrorOption(run.exit.cause)).toMatchObject({
          _tag: "Some",
          value: { _tag: "SocketError", reason: "Closed", code }
        })
      }))
  }

  for (const code of [1001, 1011, 1012, 1013, 3000, 3999, 4100, 4999]) {
    it.effect(`close code ${code} from the server is not terminal: the sessions reconnect`, () =>
      Effect.gen(function*() {
        const run = yield* firstClosedWith(code)
        expect(run.connections).toBe(2)
        expect(run.events).toEqual([
          "Connecting",
          "Connected",
          `Disconnected:${code}`,
          "Retrying",
          "Connecting",
          "Connected",
          "Disconnected:1000",
          "GaveUp:CleanClose"
        ])
        expect(Exit.isSuccess(run.exit)).toBe(true)
      }))
  }

  it.effect("a schedule that gives up after a lost session fails the sessions with how it ended (never ends quietly)", () =>
    Effect.gen(function*() {
      const run = yield* firstClosedWith(1011, { schedule: Schedule.recurs(0) })
      expect(run.connections).toBe(1)
      expect(run.events).toEqual(["Connecting", "Connected", "Disconnected:1011", "GaveUp:Exhausted"])
      expect(Exit.isFailure(run.exit)).toBe(true)
      const error = Exit.isFailure(run.exit) ? Cause.squash(run.exit.cause) : undefined
      expect(error).toBeInstanceOf(SocketError.SocketError)
      expect((error as SocketError.SocketError).code).toBe(1011)
    }))

  it.effect("isTerminalCode replaces the default rule: its codes end the sessions, the default's are retried", () =>
    Effect.gen(function*() {
      const isTerminalCode = (code: number) => code === 3001
      const custom = yield* firstClosedWith(3001, { isTerminalCode })
      expect(custom.connections).toBe(1)
      expect(custom.events.at(-1)).toBe("GaveUp:TerminalCode")
      const default_ = yield* firstClosedWith(4000, { isTerminalCode })
      expect(default_.connections).toBe(2)
      expect(default_.events.at(-1)).toBe("GaveUp:CleanClose")
    }))

  it.effect("a terminal code this side sent itself is not terminal: only the server's close ends the sessions", () =>
    Effect.gen(function*() {
      let connections = 0
      const events: Array<string> = []
      // The server holds connection 1 open; it closes connection 2 cleanly (its handler returns).
      const layer = TestConnector.layer((channel) =>
        ++connections === 1 ? Stream.runDrain(channel.read).pipe(Effect.ignore) : Effect.void
      )
      let sessions = 0
      const fiber = yield* Reconnect.sessions("ws://x/", { schedule: Schedule.spaced("1 second"), onEvent: record(events) }).pipe(
        Stream.runForEach((channel) =>
          ++sessions === 1
            ? Effect.ignore(channel.close({ code: 4000, reason: "client leaves" }))
            : Stream.runDrain(channel.read).pipe(Effect.ignore)
        ),
        Effect.provide(layer),
        Effect.forkChild
      )
      yield* advanceUntil(() => events.some((e) => e.startsWith("GaveUp")))
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect(connections).toBe(2)
      expect(events).toEqual([
        "Connecting",
        "Connected",
        "Disconnected:4000",
        "Retrying",
        "Connecting",
        "Connected",
        "Disconnected:1000",
        "GaveUp:CleanClose"
      ])
    }))

  it.effect("a clean close by the server (1000) ends the sessions without an error", () =>
    Effect.gen(function*() {
      let connections = 0
      yield* drainSessions(Reconnect.sessions("ws://x/")).pipe(
        Effect.provide(TestConnector.layer(() => Effect.sync(() => connections++)))
      )
      expect(connections).toBe(1)
    }))

  for (const status of [401, 403]) {
    it.effect(`an HTTP ${status} refusal ends the sessions with the Open error after one attempt`, () =>
      Effect.gen(function*() {
        const events: Array<string> = []
        const error = yield* drainSessions(Reconnect.sessions("ws://x/", {
          onEvent: (e) => Effect.sync(() => events.push(e._tag === "GaveUp" ? `GaveUp:${e.reason}` : e._tag))
        })).pipe(Effect.provide(refused(status)), Effect.flip)
        expect(error).toMatchObject({ _tag: "SocketError", reason: "Open", status })
        expect(events).toEqual(["Connecting", "GaveUp:Refused"])
      }))
  }

  it.effect("interruption during a backoff is clean", () =>
    Effect.gen(function*() {
      const retrying = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(drainSessions(Reconnect.sessions("ws://x/", {
        onEvent: (e) => e._tag === "Retrying" ? Deferred.succeed(retrying, undefined) : Effect.void
      })).pipe(Effect.provide(refused())))
      yield* Deferred.await(retrying)
      yield* awaitSuspended(fiber)
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)).toBe(true)
    }))

  it.effect("interruption while connecting is clean", () =>
    Effect.gen(function*() {
      const connecting = yield* Deferred.make<void>()
      const layer = TestConnector.layerWith(() => Effect.void, { accept: () => Effect.andThen(Deferred.succeed(connecting, undefined), Effect.never) })
      const fiber = yield* Effect.forkChild(drainSessions(Reconnect.sessions("ws://x/")).pipe(Effect.provide(layer)))
      yield* Deferred.await(connecting)
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)).toBe(true)
    }))
})

describe("Reconnect.framed", () => {
  const unreachable = refused()

  it.effect("outbox policy \"fail\": a send over the bound fails with NotSent OutboxFull", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2, outboxPolicy: "fail" })
      yield* forkNow(framed.send("a"))
      yield* forkNow(framed.send("b"))
      yield* Effect.yieldNow
      expect(yield* framed.pending).toBe(2)
      expect(yield* Effect.flip(framed.send("c"))).toMatchObject({ _tag: "NotSent", reason: "OutboxFull" })
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.effect("outbox policy \"dropOldest\": the oldest send fails with Dropped, the bound holds", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2, outboxPolicy: "dropOldest" })
      const first = yield* forkNow(framed.send("a"))
      yield* forkNow(framed.send("b"))
      yield* Effect.yieldNow
      yield* forkNow(framed.send("c"))
      expect(yield* Effect.flip(Fiber.join(first))).toMatchObject({ _tag: "NotSent", reason: "Dropped" })
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.effect("outbox policy \"dropOldest\" never drops the message being handed to the socket: each send is reported as what happened to it", () =>
    Effect.gen(function*() {
      // The server reads nothing until released; the pair holds one message, so the writer is
      // stuck handing "b" to the socket while the outbox fills behind it.
      const { release, received, server } = yield* heldServer
      const outcomes = yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2, outboxPolicy: "dropOldest" })
        const sends = [yield* forkNow(framed.send("a"))]
        // "a" is in the pair; the writer waits with "b" in flight, "c" behind it.
        for (let i = 0; i < 100 && received.length === 0; i++) yield* Effect.yieldNow
        sends.push(yield* forkNow(framed.send("b")), yield* forkNow(framed.send("c")))
        for (let i = 0; i < 100 && (yield* framed.pending) < 2; i++) yield* Effect.yieldNow
        expect(yield* framed.pending).toBe(2)
        // Over the bound: the oldest not in flight ("c") goes, never "b".
        sends.push(yield* forkNow(framed.send("d")))
        yield* Deferred.succeed(release, undefined)
        return yield* Effect.forEach(sends, (fiber) => Effect.result(Fiber.join(fiber)))
      }).pipe(Effect.provide(server))
      expect(outcomes.map((o) => (Result.isSuccess(o) ? "sent" : o.failure._tag === "NotSent" ? o.failure.reason : "?"))).toEqual([
        "sent",
        "sent",
        "Dropped",
        "sent"
      ])
      for (let i = 0; i < 100 && received.length < 3; i++) yield* Effect.yieldNow
      expect(received).toEqual(["a", "b", "d"])
    }))

  it.effect("an interrupted send withdraws its message: it is never sent after the caller gave up", () =>
    Effect.gen(function*() {
      const { release, received, server } = yield* heldServer
      yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 8 })
        // "a" fills the pair; then "b" is in flight (waiting for room), "c" waits behind it and
        // is given up on.
        yield* framed.send("a")
        yield* forkNow(framed.send("b"))
        for (let i = 0; i < 100 && (yield* framed.pending) < 1; i++) yield* Effect.yieldNow
        const c = yield* forkNow(framed.send("c"))
        yield* forkNow(framed.send("d"))
        for (let i = 0; i < 100 && (yield* framed.pending) < 3; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(c)
        expect(yield* framed.pending).toBe(2)
        yield* Deferred.succeed(release, undefined)
        for (let i = 0; i < 200 && received.length < 3; i++) yield* Effect.yieldNow
      }).pipe(Effect.provide(server))
      expect(received).toEqual(["a", "b", "d"])
    }))

  it.live("a send interrupted while in flight is dropped if that hand-over fails: a retry never makes it go twice", () =>
    Effect.gen(function*() {
      const drop = yield* Deferred.make<void>()
      const second: Array<string> = []
      let sessions = 0
      // Session 1 reads nothing (the one-message pair fills), then dies; session 2 reads all.
      const server = TestConnector.layerWith((channel) =>
        ++sessions === 1
          ? Effect.andThen(Deferred.await(drop), channel.socket.terminate)
          : ByteChannel.framed(channel, Codec.lines()).messages.pipe(
            Stream.runForEach((line) => Effect.sync(() => second.push(line)))
          ), { pair: { capacity: 1 } })
      yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { schedule: Schedule.spaced("10 millis") })
        yield* framed.send("a")
        const b = yield* forkNow(framed.send("b"))
        for (let i = 0; i < 100 && (yield* framed.pending) < 1; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(b)
        yield* Deferred.succeed(drop, undefined)
        // The caller retries "b".
        yield* framed.send("b")
        yield* framed.send("end")
        for (let i = 0; i < 500 && !second.includes("end"); i++) yield* Effect.sleep("2 millis")
      }).pipe(Effect.provide(server), Effect.scoped)
      expect(second).toEqual(["b", "end"])
    }))

  it.effect("outbox policy \"suspend\" (default): a send over the bound waits", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2 })
      yield* forkNow(framed.send("a"))
      yield* forkNow(framed.send("b"))
      yield* Effect.yieldNow
      const third = yield* forkNow(framed.send("c"))
      yield* awaitSuspended(third)
      expect(yield* framed.pending).toBe(2)
    }).pipe(Effect.provide(unreachable)))

  it.effect("an encoding error fails send before anything is queued", () =>
    Effect.gen(function*() {
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines({ maxLength: 2 }), {})
      expect(yield* Effect.flip(framed.send("too long"))).toMatchObject({ _tag: "FrameTooLarge" })
      expect(yield* framed.pending).toBe(0)
    }).pipe(Effect.provide(unreachable)))

  it.effect("a message still in the outbox when its socket dies goes first on the next session, before newer ones", () =>
    Effect.gen(function*() {
      let attempts = 0
      let connections = 0
      const gate = yield* Deferred.make<void>()
      const received: Array<string> = []
      const done = yield* Deferred.make<void>()
      // Session 1 is held until three messages are queued, then the server drops it (1011)
      // without reading: with room for one message in flight, a send is refused by the dying
      // socket and its message stays in the outbox. Session 2 reads every line until "end".
      const layer = TestConnector.layerWith((channel) =>
        Effect.gen(function*() {
          if (++connections === 1) {
            yield* channel.socket.closeWithProtocolCode({ code: 1011 })
            return
          }
          yield* ByteChannel.framed(channel, Codec.lines()).messages.pipe(
            Stream.takeUntil((line) => line === "end"),
            Stream.runForEach((line) => Effect.sync(() => received.push(line)))
          )
          yield* Deferred.succeed(done, undefined)
        }), {
        pair: { capacity: 1 },
        accept: () => (++attempts === 1 ? Deferred.await(gate) : Effect.void)
      })
      yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { schedule: Schedule.spaced("1 second") })
        const sends = yield* Effect.forEach(["m0", "m1", "m2"], (line) => forkNow(framed.send(line)))
        for (let i = 0; i < 100 && (yield* framed.pending) < 3; i++) yield* Effect.yieldNow
        expect(yield* framed.pending).toBe(3)
        yield* Deferred.succeed(gate, undefined)
        yield* advanceUntil(() => connections >= 2)
        // Every one was handed to a socket (m0 perhaps to the first, and lost with it).
        yield* Effect.forEach(sends, Fiber.join)
        yield* framed.send("end")
        yield* Deferred.await(done)
      }).pipe(Effect.scoped, Effect.provide(layer))
      expect([["m0", "m1", "m2", "end"], ["m1", "m2", "end"]]).toContainEqual(received)
    }))

  it.effect("after its scope closes: queued and later sends fail at once with NotSent Ended; messages and events end", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { outboxSize: 2 }).pipe(
        Scope.provide(scope),
        Effect.provide(unreachable)
      )
      const queued = [yield* forkNow(framed.send("a")), yield* forkNow(framed.send("b"))]
      const waiting = yield* forkNow(framed.send("c")) // the outbox is full: waits for room
      const messages = yield* Effect.forkChild(Stream.runCollect(framed.messages))
      const events = yield* Effect.forkChild(Stream.runCollect(framed.events))
      for (const fiber of [...queued, waiting]) yield* awaitSuspended(fiber)
      yield* awaitSuspended(messages)
      yield* awaitSuspended(events)
      yield* Scope.close(scope, Exit.void)
      for (const fiber of [...queued, waiting]) {
        expect(yield* Effect.flip(Fiber.join(fiber))).toMatchObject({ _tag: "NotSent", reason: "Ended" })
      }
      expect(yield* Effect.flip(framed.send("d"))).toMatchObject({ _tag: "NotSent", reason: "Ended" })
      expect(yield* framed.pending).toBe(0)
      expect(yield* Fiber.join(messages)).toEqual([])
      yield* Fiber.join(events)
    }))

  it.effect("a bad frame from the peer ends framed: the messages before it, then the CodecError; closed with 1009; no new session; sends fail NotSent Ended", () =>
    Effect.gen(function*() {
      let connections = 0
      const serverSaw = yield* Deferred.make<number>()
      const layer = TestConnector.layer((channel) =>
        Effect.gen(function*() {
          connections++
          yield* channel.send(new TextEncoder().encode(`ok 1\nok 2\n${"x".repeat(100)}\nok 3\n`))
          yield* Deferred.succeed(serverSaw, (yield* channel.closed).code)
        })
      )
      const events: Array<string> = []
      const received: Array<string> = []
      const result = yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines({ maxLength: 10 }), {
          schedule: Schedule.spaced("1 second"),
          onEvent: (e) =>
            Effect.sync(() =>
              events.push(e._tag === "GaveUp" ? `GaveUp:${e.reason}` : e._tag === "Disconnected" ? `Disconnected:${e.info.code}` : e._tag)
            )
        })
        const error = yield* framed.messages.pipe(Stream.runForEach((m) => Effect.sync(() => received.push(m))), Effect.flip)
        // Time for many reconnects, were there any.
        yield* TestClock.adjust("1 minute")
        return { error, late: yield* Effect.flip(framed.send("late")), again: yield* Effect.flip(Stream.runDrain(framed.messages)) }
      }).pipe(Effect.scoped, Effect.provide(layer))
      expect(received).toEqual(["ok 1", "ok 2"])
      expect(result.error).toMatchObject({ _tag: "FrameTooLarge" })
      expect(yield* Deferred.await(serverSaw)).toBe(1009)
      expect(connections).toBe(1)
      expect(events).toEqual(["Connecting", "Connected", "Disconnected:1009", "GaveUp:BadFrame"])
      expect(result.late).toMatchObject({ _tag: "NotSent", reason: "Ended" })
      // A failure is final: a new subscriber gets it too (it neither hangs nor sees a later session).
      expect(result.again).toBe(result.error)
    }))

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
        // A short fixed spacing: with the default backoff, sessions shorter than a clock tick
        // never reset it, and a run of them could wait past the bound below.
        const framed = yield* Reconnect.framed("ws://x/", Codec.lines(), { schedule: Schedule.spaced("1 millis") })
        const outcomes: Array<boolean> = []
        for (let i = 0; i < 30; i++) outcomes.push(Exit.isSuccess(yield* Effect.exit(framed.send(`m${i}`))))
        const delivered = outcomes.filter(Boolean).length
        const echoes = yield* framed.messages.pipe(Stream.take(Math.min(delivered, 20)), Stream.runCollect, Effect.timeout("5 seconds"), Effect.orElseSucceed((): ReadonlyArray<string> => []))
        return { outcomes, echoes }
      }).pipe(Effect.scoped, Effect.provide(layer))
      // Echoed messages are a subsequence of what was sent, in order, with no duplicates.
      const numbers = result.echoes.map((m) => Number(m.slice(1)))
      expect(new Set(numbers).size).toBe(numbers.length)
      expect([...numbers].sort((a, b) => a - b)).toEqual(numbers)
      expect(numbers.length).toBeGreaterThan(3) // more than one session's worth arrived
      expect(result.outcomes.every((sent) => sent)).toBe(true)
    }))

  it.effect("heartbeat: a silent peer is dropped after idleTimeout and the sessions reconnect; pongs keep it and stay out of messages", () =>
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
      const first = yield* Effect.forkChild(framed.messages.pipe(Stream.take(1), Stream.runCollect))
      yield* advanceUntil(() => connections >= 2, "500 millis")
      expect(events).toContain("Disconnected:1006")
      expect(yield* Fiber.join(first)).toEqual(["hello"])
      // The answering peer survives many idle timeouts' worth of time.
      yield* TestClock.adjust("20 seconds")
      expect(connections).toBe(2)
      }).pipe(Effect.provide(layer))
    }))
})
