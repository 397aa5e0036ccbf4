/**
 * A deadline for a wait that plain code ends (a handshake, a close): one timer fiber that runs
 * `onExpiry` when the time is up, stopped as soon as the wait ends. `Effect.timeout` forks the
 * wait and the timer both, then joins the winner's fiber refs: three times the work, paid on
 * every connection's open and close. The timer sleeps on the fiber's `Clock`, so `TestClock`
 * drives it.
 *
 * `onExpiry` ends the wait itself (it fails the handshake, or drops the connection, which
 * completes the close): the wait is never cut from outside, so nothing is left half done.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/**
 * The timer is stopped when the wait ends, not when it is interrupted: a close once begun is
 * still ended at its deadline if whoever waited for it gave up (an interrupted `Scope.close`),
 * or a silent peer would hold the connection forever.
 *
 * @internal
 */
export const withDeadline = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  timeout: Duration.Duration,
  onExpiry: () => void
): Effect.Effect<A, E, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      // Interruptible even when forked from a finalizer (which runs uninterruptibly), or stopping
      // it could not cut its sleep short.
      Effect.forkDaemon(Effect.zipRight(Effect.interruptible(Effect.sleep(timeout)), Effect.sync(onExpiry))),
      (timer) =>
        Effect.onExit(
          restore(wait),
          (exit) => Exit.isInterrupted(exit) ? Effect.void : Effect.sync(() => timer.unsafeInterruptAsFork(FiberId.none))
        )
    )
  )
