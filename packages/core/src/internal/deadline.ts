/**
 * A deadline for a wait that plain code ends (a handshake, a close, a stalled send): a timer that
 * runs `onExpiry` when the time is up, stopped as soon as the wait ends.
 *
 * On the default `Clock` the timer is a plain `setTimeout` (no fiber per wait: a connection
 * opens and closes with one each); on any other `Clock` (`TestClock`) it is a fiber that sleeps
 * on that clock, so the clock drives it.
 *
 * `onExpiry` ends the wait itself (it fails the handshake, or drops the connection, which
 * completes the close): the wait is never cut from outside, so nothing is left half done.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as constants from "./constants.js"

/** A running deadline: `interruptUnsafe` stops it (a fiber's method, so a fiber is one too). @internal */
export interface Timer {
  readonly interruptUnsafe: () => void
}

// The clock every fiber has unless one was provided: the one whose sleep is `setTimeout`.
const defaultClock = Context.get(Context.empty(), Clock.Clock)

/**
 * A `setTimeout` that runs `onExpiry` after `millis` (re-armed past the largest delay a timer
 * takes), leaving `kept` (its owner's set, if it was put there) as it fires.
 */
class PlainTimer implements Timer {
  private handle: ReturnType<typeof setTimeout> | undefined = undefined
  constructor(
    private remaining: number,
    private readonly onExpiry: () => void,
    private readonly kept: Set<Timer> | undefined
  ) {
    this.arm()
  }
  private arm() {
    const delay = Math.min(this.remaining, constants.MAX_TIMER_MILLIS)
    this.remaining -= delay
    this.handle = setTimeout(fire, delay, this)
  }
  /** @internal */
  fire() {
    if (this.remaining > 0) return this.arm()
    this.handle = undefined
    this.kept?.delete(this)
    // As a timer fiber's defect would: nothing else to tell (onExpiry ends the wait itself).
    try {
      this.onExpiry()
    } catch {
      // ignored
    }
  }
  /** Not fired nor stopped yet. */
  get pending(): boolean {
    return this.handle !== undefined
  }
  interruptUnsafe() {
    if (this.handle === undefined) return
    clearTimeout(this.handle)
    this.handle = undefined
  }
}

// One function for every timer (no closure per deadline).
const fire = (timer: PlainTimer) => timer.fire()

/**
 * With `keepOnInterrupt` (a set the owner holds), the timer is not stopped when the wait is
 * interrupted: a close once begun is still ended at its deadline if whoever waited for it gave up
 * (an interrupted `Scope.close`, an `Effect.timeout` around `close`), or a silent peer would hold
 * the connection forever. It is kept in the set meanwhile, for its owner to stop once the
 * connection closed by other means; it leaves the set when it ends. Without it (an opening
 * handshake), an interrupted wait stops the timer at once: nothing of an abandoned connect
 * outlives it.
 *
 * @internal
 */
export const withDeadline = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  timeout: Duration.Duration,
  onExpiry: () => void,
  options?: { readonly keepOnInterrupt?: Set<Timer> | undefined }
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const clock = fiber.getRef(Clock.Clock)
    if (clock !== defaultClock) return withClockDeadline(wait, clock, timeout, onExpiry, options?.keepOnInterrupt)
    const millis = Duration.toMillis(timeout)
    // No deadline at all: no timer (as the default clock's sleep never ends).
    if (!Number.isFinite(millis)) return wait
    const kept = options?.keepOnInterrupt
    let timer: PlainTimer | undefined
    // The timer starts inside the guarded wait: whatever ends the wait (an interrupt before it
    // even ran too) finds it, so none is left running unless it is kept on purpose.
    return Effect.onExit(
      Effect.suspend(() => {
        timer = new PlainTimer(Math.max(0, millis), onExpiry, kept)
        return wait
      }),
      (exit) => {
        if (timer === undefined) return Effect.void
        if (kept === undefined || !Exit.hasInterrupts(exit)) timer.interruptUnsafe()
        else if (timer.pending) kept.add(timer)
        return Effect.void
      }
    )
  })

/** The same deadline as a fiber sleeping on `clock` (a `TestClock`, or any clock provided). */
const withClockDeadline = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  clock: Clock.Clock,
  timeout: Duration.Duration,
  onExpiry: () => void,
  kept: Set<Timer> | undefined
): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      // Interruptible even when forked from a finalizer (which runs uninterruptibly), or stopping
      // it could not cut its sleep short.
      Effect.forkDetach(Effect.andThen(Effect.interruptible(clock.sleep(timeout)), Effect.sync(onExpiry))),
      (timer) =>
        Effect.onExit(restore(wait), (exit) => {
          if (kept !== undefined && Exit.hasInterrupts(exit)) {
            kept.add(timer)
            timer.addObserver(() => kept.delete(timer))
            return Effect.void
          }
          timer.interruptUnsafe()
          return Effect.void
        })
    )
  )
