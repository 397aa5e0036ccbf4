import { describe, expect, it } from "@effect/vitest"
import { Codec, Reconnect } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { spawnPeer } from "./fixtures.js"

const Numbered = Schema.Struct({ n: Schema.Number })

const startServer = (port: number) =>
  Effect.gen(function*() {
    const child = yield* spawnPeer("reconnect-server", [String(port)])
    const first = yield* child.line(0)
    return { child, port: Number(first.replace("port ", "")) }
  })

/** Every number the server printed as "got N", from line 1 on. */
const received = (lines: ReadonlyArray<string>) => lines.filter((l) => l.startsWith("got ")).map((l) => Number(l.slice(4)))

describe("Reconnect against a real server", () => {
  it.live("server killed and restarted on the same port: 1,000 numbered NDJSON messages are each delivered once or reported, in order", () =>
    Effect.gen(function*() {
      const outboxSize = 64
      const first = yield* startServer(0)
      const url = `ws://127.0.0.1:${first.port}/`
      const result = yield* Effect.gen(function*() {
        const framed = yield* Reconnect.framed(url, Codec.ndjson(Numbered), {
          outboxSize,
          outboxPolicy: "dropOldest",
          schedule: Schedule.spaced("50 millis")
        })
        // The producer queues one message every ~2 ms and does not wait; each send's fiber tells its outcome.
        const sends: Array<Fiber.Fiber<void, unknown>> = []
        let maxPending = 0
        const producer = yield* Effect.forkChild(Effect.gen(function*() {
          for (let n = 0; n < 1000; n++) {
            // In the test's scope, not the producer's: a send still waiting when the producer ends
            // must not be interrupted (an interrupted send is withdrawn).
            sends.push(yield* Effect.forkScoped(framed.send({ n })))
            maxPending = Math.max(maxPending, yield* framed.pending)
            yield* Effect.sleep("2 millis")
          }
        }))
        // Mid-stream (once the first server has received 100 messages): kill it, keep it down
        // for a while, start it again on the same port.
        for (let i = 0; i < 400 && received(first.child.output()).length < 100; i++) yield* Effect.sleep("10 millis")
        expect(received(first.child.output()).length).toBeGreaterThanOrEqual(100)
        first.child.process.kill("SIGKILL")
        yield* Effect.sleep("400 millis")
        const second = yield* startServer(first.port)
        yield* Fiber.join(producer)
        const outcomes = yield* Effect.forEach(sends, (fiber) => Fiber.await(fiber))
        // Let the last handed-over messages reach the server (bounded wait, polling its output).
        const last = outcomes.map(Exit.isSuccess).lastIndexOf(true)
        for (let i = 0; i < 100 && !received(second.child.output()).includes(last); i++) yield* Effect.sleep("50 millis")
        return { outcomes, maxPending, first: first.child.output(), second: second.child.output() }
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

      const got = [...received(result.first), ...received(result.second)]
      const delivered = new Set(result.outcomes.flatMap((exit, n) => (Exit.isSuccess(exit) ? [n] : [])))
      const notSent = result.outcomes.flatMap((exit, n) => (Exit.isFailure(exit) ? [n] : []))

      // In order, none twice.
      for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]!)
      // Only messages reported as handed to a socket arrive; none reported as not sent does.
      for (const n of got) expect(delivered.has(n)).toBe(true)
      for (const n of notSent) expect(got.includes(n)).toBe(false)
      // Both server incarnations received messages, and the outbox never passed its bound.
      expect(got.some((n) => n < 200)).toBe(true)
      expect(got.some((n) => n > 800)).toBe(true)
      expect(result.maxPending).toBeLessThanOrEqual(outboxSize)
      // At-most-once: what was lost is what was in flight when the server died (small).
      expect(delivered.size - got.length).toBeLessThan(100)
    }).pipe(Effect.scoped), 60_000)

  it.live("a half-open server (SIGSTOP) is detected by keepalive, then reconnection starts", () =>
    Effect.gen(function*() {
      const server = yield* startServer(0)
      const events: Array<{ readonly at: number; readonly event: Reconnect.ReconnectEvent }> = []
      const connected = yield* Deferred.make<void>()
      const fiber = yield* Reconnect.sessions(`ws://127.0.0.1:${server.port}/`, {
        schedule: Schedule.spaced("100 millis"),
        onEvent: (event) =>
          Effect.andThen(
            Effect.sync(() => events.push({ at: Date.now(), event })),
            event._tag === "Connected" ? Deferred.succeed(connected, undefined) : Effect.void
          )
      }).pipe(
        Stream.runForEach((channel) => Stream.runDrain(channel.read).pipe(Effect.ignore)),
        Effect.provide(NodeConnector.layerWith({ pingInterval: "200 millis", pongTimeout: "200 millis", openTimeout: "300 millis" })),
        Effect.forkChild
      )
      yield* Deferred.await(connected)
      const stoppedAt = Date.now()
      server.child.process.kill("SIGSTOP")
      // Wait (bounded) for the disconnect and a following attempt.
      for (let i = 0; i < 100 && !events.some((e) => e.event._tag === "Connecting" && e.at > stoppedAt); i++) {
        yield* Effect.sleep("50 millis")
      }
      server.child.process.kill("SIGCONT")
      yield* Fiber.interrupt(fiber)
      const disconnected = events.find((e) => e.event._tag === "Disconnected" && e.at > stoppedAt)
      expect(disconnected?.event).toMatchObject({ _tag: "Disconnected", info: { code: 1006 } })
      // pingInterval + pongTimeout, with room for scheduling on a busy machine.
      expect(disconnected!.at - stoppedAt).toBeLessThan(400 + 1000)
      expect(events.some((e) => e.event._tag === "Connecting" && e.at > disconnected!.at)).toBe(true)
    }).pipe(Effect.scoped), 30_000)
})
