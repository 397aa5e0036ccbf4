/**
 * Test helpers shared by every package's tests, on any platform (they also run in Chromium):
 * fibers, reproducible random data. Node-only helpers (certificates, redis-server) are in
 * `nodeUtils.ts`.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"

/**
 * What a fiber resumes with, read from the runtime's fiber. Effect 4 has no public fiber status:
 * this is the one place the tests lean on the runtime's internals, and it says so loudly if they
 * change.
 */
const resumption = (fiber: Fiber.Fiber<unknown, unknown>): unknown => {
  if (!("_yielded" in fiber)) throw new Error("awaitSuspended: this effect runtime's fibers have no _yielded field")
  return (fiber as unknown as { readonly _yielded: unknown })._yielded
}

/**
 * Yields until `fiber` is suspended (waiting on something outside itself: a message, a timer, a
 * deferred). Bounded: fails the test instead of spinning forever. No clock is involved.
 *
 * A fiber that waits keeps the same resumption until something resumes it; one that only yielded
 * to the scheduler (or has not started yet) runs before this fiber's next turn, and so shows a
 * new one: the same resumption on two turns in a row is a wait.
 */
export const awaitSuspended = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    let previous: unknown = undefined
    for (let i = 0; i < 1_000; i++) {
      if (fiber.pollUnsafe() !== undefined) return yield* Effect.die(new Error("fiber completed instead of suspending"))
      const current = resumption(fiber)
      if (current !== undefined && current === previous) return
      previous = current
      yield* Effect.yieldNow
    }
    return yield* Effect.die(new Error("fiber never suspended"))
  })

/** A reproducible pseudo-random source (mulberry32). */
export const prng = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `size` bytes from `random` (see `prng`). */
export const randomBytes = (random: () => number, size: number) => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (random() * 256) | 0
  return bytes
}

/**
 * A byte pattern addressed by absolute stream offset, so a reader can verify every byte
 * without keeping what was sent.
 */
export const makePattern = (maxMessage: number) => {
  const period = 65_521 // prime, so message boundaries do not line up with the period
  const random = prng(42)
  const bytes = new Uint8Array(period + maxMessage)
  for (let i = 0; i < bytes.length; i++) bytes[i] = i < period ? Math.floor(random() * 256) : bytes[i - period]!
  return {
    slice: (offset: number, size: number) => bytes.subarray(offset % period, (offset % period) + size),
    /** Index of the first mismatch of `chunk` against the pattern at `offset`, or -1. */
    mismatch: (offset: number, chunk: Uint8Array) => {
      let p = offset % period
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== bytes[p]) return i
        if (++p === period) p = 0
      }
      return -1
    }
  }
}

/** The bytes of `parts`, one after another, in a new array. */
export const concat = (parts: ReadonlyArray<Uint8Array>) => {
  let size = 0
  for (const part of parts) size += part.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/**
 * Items pushed from callbacks, and a wait until they satisfy a condition, bounded by `deadline`
 * (a defect past it, naming what was awaited and the last items).
 */
export const watch = <A>(deadline: Duration.Input) => {
  const items: Array<A> = []
  let waiters: Array<() => void> = []
  return {
    items,
    push: (item: A) => {
      items.push(item)
      const current = waiters
      waiters = []
      for (const waiter of current) waiter()
    },
    until: (check: (items: ReadonlyArray<A>) => boolean, what: string) =>
      Effect.callback<void>((resume) => {
        const test = () => {
          if (check(items)) resume(Effect.void)
          else waiters.push(test)
        }
        test()
      }).pipe(
        Effect.timeoutOrElse({
          duration: deadline,
          orElse: () =>
            Effect.die(new Error(`timed out waiting for ${what}; have ${items.length}, last: ${JSON.stringify(items.slice(-5))}`))
        })
      )
  }
}
