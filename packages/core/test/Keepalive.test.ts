import * as Keepalive from "@bytechannel/core/Keepalive"
import * as Transport from "@bytechannel/core/Transport"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"

/** An engine over a transport that records what the keepalive does to it. */
const setup = Effect.gen(function*() {
  const log = { probes: 0, terminated: false, answers: 0, ready: true }
  const controller = yield* Transport.make(() => ({
    write: () => {},
    bufferedAmount: () => 0,
    sendClose: () => {},
    terminate: () => {
      log.terminated = true
    },
    pause: () => {},
    resume: () => {}
  }), { receiveHighWaterMessages: 2 })
  yield* Keepalive.run(controller, {
    answer: "pong",
    send: () => {
      log.probes++
    },
    ready: () => log.ready,
    answers: () => log.answers
  }, { interval: "10 seconds", timeout: "5 seconds" })
  return { controller, log }
})

describe("Keepalive (TestClock)", () => {
  it.effect("a probe every interval; no sign of life within the timeout fails with 1006 and drops the transport", () =>
    Effect.gen(function*() {
      const { controller, log } = yield* setup
      const reading = yield* Effect.forkChild(controller.socket.receive)
      yield* TestClock.adjust("10 seconds")
      expect(log.probes).toBe(1)
      yield* TestClock.adjust("4999 millis")
      expect(log.terminated).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect(log.terminated).toBe(true)
      const error = yield* Effect.flip(Fiber.join(reading))
      expect(error).toMatchObject({ reason: "Read", code: 1006 })
      expect(error.message).toContain("no pong within 5s")
    }))

  it.effect("an answer, any message, or a receive pause since the probe counts as alive", () =>
    Effect.gen(function*() {
      const { controller, log } = yield* setup
      // Round 1: answered.
      yield* TestClock.adjust("10 seconds")
      log.answers++
      yield* TestClock.adjust("5 seconds")
      // Round 2: a message instead of an answer.
      yield* TestClock.adjust("10 seconds")
      controller.onMessage(new Uint8Array([1]))
      yield* TestClock.adjust("5 seconds")
      // Round 3: the queue fills (a pause), then is drained before the deadline.
      yield* TestClock.adjust("10 seconds")
      controller.onMessage(new Uint8Array([2]))
      controller.onMessage(new Uint8Array([3]))
      expect(controller.receivePaused()).toBe(true)
      for (let i = 0; i < 3; i++) yield* controller.socket.receive
      expect(controller.receivePaused()).toBe(false)
      yield* TestClock.adjust("5 seconds")
      expect(log.probes).toBe(3)
      expect(log.terminated).toBe(false)
      // Round 4: silence.
      yield* TestClock.adjust("15 seconds")
      expect(log.terminated).toBe(true)
    }))

  it.effect("under send backpressure a peer that takes our data is busy, not dead; one that takes none is judged by the send-stall rule", () =>
    Effect.gen(function*() {
      const wire = { buffered: 0, probes: 0, terminated: false }
      const controller = yield* Transport.make(() => ({
        write: () => {
          wire.buffered++
        },
        bufferedAmount: () => wire.buffered,
        sendClose: () => {},
        terminate: () => {
          wire.terminated = true
        },
        pause: () => {},
        resume: () => {}
      }), { sendHighWaterMark: 100, sendStallTimeout: "30 seconds" })
      yield* Keepalive.run(controller, {
        answer: "pong",
        send: () => {
          wire.probes++
        },
        ready: () => true,
        answers: () => 0
      }, { interval: "10 seconds", timeout: "5 seconds" })
      wire.buffered = 50
      // The probe goes out at 10 s; at 15 s no answer, but our own data waits before it: no
      // verdict from the keepalive, the send-stall watch judges from here (marked at 50).
      yield* TestClock.adjust("15 seconds")
      expect(wire.terminated).toBe(false)
      // The peer reads some of it within the window (50 → 40), and a write adds one more byte
      // that is not progress: at 45 s the watch sees a drain and goes on.
      yield* TestClock.adjust("5 seconds")
      wire.buffered = 40
      yield* controller.socket.send(new Uint8Array([1]))
      yield* TestClock.adjust("25 seconds")
      expect(wire.terminated).toBe(false)
      expect(controller.state()).toBe("open")
      // From then on nothing drains, though more is written: at 75 s, no progress for a window:
      // closed with 1008 (SendTimeout), dropped when the close deadline passes.
      yield* controller.socket.send(new Uint8Array([2]))
      yield* TestClock.adjust("30 seconds")
      const failure = yield* Effect.flip(controller.socket.receive)
      expect(failure.reason).toBe("SendTimeout")
      expect(wire.probes).toBeGreaterThanOrEqual(3)
      expect(wire.terminated).toBe(false)
      yield* TestClock.adjust("5 seconds")
      expect(wire.terminated).toBe(true)
    }))

  it.effect("no probe before the transport is ready (a handshake under way), and the loop survives it", () =>
    Effect.gen(function*() {
      const { log } = yield* setup
      log.ready = false
      yield* TestClock.adjust("30 seconds")
      expect(log.probes).toBe(0)
      log.ready = true
      yield* TestClock.adjust("10 seconds")
      expect(log.probes).toBe(1)
      expect(log.terminated).toBe(false)
    }))

  it.effect("ends when the connection closes", () =>
    Effect.gen(function*() {
      const { controller, log } = yield* setup
      controller.onClose({ code: 1000, reason: "", wasClean: true })
      yield* TestClock.adjust("60 seconds")
      expect(log.probes).toBe(0)
    }))
})
