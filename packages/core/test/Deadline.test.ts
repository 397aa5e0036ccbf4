/**
 * The deadline every bounded wait uses (open, close, stalled send): on the default clock a plain
 * timer, stopped when the wait ends, kept (in its owner's set) when a close's waiter gives up; on
 * a TestClock a fiber sleeping on it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import { type Timer, withDeadline } from "../src/internal/deadline.js"
import { awaitSuspended } from "./utils.js"

/** Node's pending timers (`setTimeout` handles not yet fired or cleared). */
const pendingTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length

/** Fails the test instead of hanging it when `effect` never completes. */
const bounded = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.timeoutOrElse(effect, { duration: "10 seconds", orElse: () => Effect.die(new Error("never completed")) })

describe("withDeadline on the default clock (a plain timer)", () => {
  it.live("past the deadline onExpiry runs, and ends the wait itself", () =>
    Effect.gen(function*() {
      const ended = yield* Deferred.make<string>()
      const result = yield* bounded(
        withDeadline(Deferred.await(ended), Duration.millis(20), () => Deferred.doneUnsafe(ended, Effect.succeed("expired")))
      )
      expect(result).toBe("expired")
    }))

  it.live("a wait that ends first stops its timer: none is left, onExpiry never runs", () =>
    Effect.gen(function*() {
      let expired = 0
      const before = pendingTimers()
      const waiting = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(withDeadline(Deferred.await(waiting), Duration.hours(1), () => expired++))
      yield* awaitSuspended(fiber)
      expect(pendingTimers(), "the deadline's timer while the wait runs").toBe(before + 1)
      yield* Deferred.succeed(waiting, undefined)
      yield* Fiber.join(fiber)
      expect(pendingTimers(), "a timer left after the wait ended").toBe(before)
      expect(expired).toBe(0)
    }))

  it.live("an interrupted wait stops its timer (an abandoned connect leaves nothing)", () =>
    Effect.gen(function*() {
      const before = pendingTimers()
      const fiber = yield* Effect.forkChild(withDeadline(Effect.never, Duration.hours(1), () => {}))
      yield* awaitSuspended(fiber)
      yield* Fiber.interrupt(fiber)
      expect(pendingTimers()).toBe(before)
    }))

  it.live("keepOnInterrupt: an interrupted wait's timer runs on in the owner's set, fires, and leaves the set", () =>
    Effect.gen(function*() {
      const kept = new Set<Timer>()
      const expired = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(
        withDeadline(Effect.never, Duration.millis(30), () => Deferred.doneUnsafe(expired, Effect.void), { keepOnInterrupt: kept })
      )
      yield* awaitSuspended(fiber)
      yield* Fiber.interrupt(fiber)
      expect(kept.size, "the timer kept for its owner").toBe(1)
      yield* bounded(Deferred.await(expired))
      expect(kept.size, "a fired timer still in the set").toBe(0)
    }))

  it.live("keepOnInterrupt: the owner stops a kept timer with interruptUnsafe, and it never fires", () =>
    Effect.gen(function*() {
      const kept = new Set<Timer>()
      let expired = 0
      const before = pendingTimers()
      const fiber = yield* Effect.forkChild(withDeadline(Effect.never, Duration.hours(1), () => expired++, { keepOnInterrupt: kept }))
      yield* awaitSuspended(fiber)
      yield* Fiber.interrupt(fiber)
      for (const timer of kept) timer.interruptUnsafe()
      expect(pendingTimers()).toBe(before)
      expect(expired).toBe(0)
    }))

  it.live("keepOnInterrupt: a wait interrupted after its deadline passed keeps nothing (the timer is done)", () =>
    Effect.gen(function*() {
      const kept = new Set<Timer>()
      const expired = yield* Deferred.make<void>()
      // An onExpiry that does not end the wait: it is interrupted afterwards.
      const fiber = yield* Effect.forkChild(
        withDeadline(Effect.never, Duration.millis(10), () => Deferred.doneUnsafe(expired, Effect.void), { keepOnInterrupt: kept })
      )
      yield* bounded(Deferred.await(expired))
      yield* Fiber.interrupt(fiber)
      expect(kept.size, "a fired timer kept in the set forever").toBe(0)
    }))

  it.live("no deadline (Infinity): no timer at all", () =>
    Effect.gen(function*() {
      const before = pendingTimers()
      const waiting = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(withDeadline(Deferred.await(waiting), Duration.infinity, () => {}))
      yield* awaitSuspended(fiber)
      expect(pendingTimers()).toBe(before)
      yield* Deferred.succeed(waiting, undefined)
      yield* Fiber.join(fiber)
    }))

  it.live("an onExpiry that throws is contained: the process goes on, as a timer fiber's defect did", () =>
    Effect.gen(function*() {
      const ran = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(withDeadline(Effect.never, Duration.millis(10), () => {
        Deferred.doneUnsafe(ran, Effect.void)
        throw new Error("the transport's terminate threw")
      }))
      yield* bounded(Deferred.await(ran))
      yield* Fiber.interrupt(fiber)
    }))
})

describe("withDeadline on a TestClock (a fiber sleeping on it)", () => {
  it.effect("the deadline passes when the clock is adjusted past it, not before", () =>
    Effect.gen(function*() {
      const ended = yield* Deferred.make<string>()
      const fiber = yield* Effect.forkChild(
        withDeadline(Deferred.await(ended), Duration.seconds(5), () => Deferred.doneUnsafe(ended, Effect.succeed("expired")))
      )
      yield* awaitSuspended(fiber)
      yield* TestClock.adjust("4999 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe("expired")
    }))
})
