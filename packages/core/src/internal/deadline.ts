/**
 * A deadline for a wait that plain code ends (a handshake, a close, a stalled send): one timer
 * fiber that runs `onExpiry` when the time is up, stopped as soon as the wait ends. The timer
 * sleeps on the fiber's `Clock`, so `TestClock` drives it.
 *
 * `onExpiry` ends the wait itself (it fails the handshake, or drops the connection, which
 * completes the close): the wait is never cut from outside, so nothing is left half done.
 *
 * @internal
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/**
 * With `keepOnInterrupt`, the timer is stopped when the wait ends, not when it is interrupted:
 * a close once begun is still ended at its deadline if whoever waited for it gave up (an
 * interrupted `Scope.close`, an `Effect.timeout` around `close`), or a silent peer would hold
 * the connection forever. Without it (an opening handshake), an interrupted wait stops the
 * timer at once: nothing of an abandoned connect outlives it.
 *
 * @internal
 */
export const withDeadline = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  timeout: Duration.Duration,
  onExpiry: () => void,
  options?: { readonly keepOnInterrupt?: boolean | undefined }
): Effect.Effect<A, E, R> => {
  const keep = options?.keepOnInterrupt === true
  return Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      // Interruptible even when forked from a finalizer (which runs uninterruptibly), or stopping
      // it could not cut its sleep short.
      Effect.forkDetach(Effect.andThen(Effect.interruptible(Effect.sleep(timeout)), Effect.sync(onExpiry))),
      (timer) =>
        Effect.onExit(restore(wait), (exit) => {
          if (keep && Exit.hasInterrupts(exit)) return Effect.void
          timer.interruptUnsafe()
          return Effect.void
        })
    )
  )
}
