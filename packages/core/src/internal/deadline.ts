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
import type * as Fiber from "effect/Fiber"

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
  options?: { readonly keepOnInterrupt?: Set<Fiber.Fiber<void>> | undefined }
): Effect.Effect<A, E, R> => {
  const kept = options?.keepOnInterrupt
  return Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(
      // Interruptible even when forked from a finalizer (which runs uninterruptibly), or stopping
      // it could not cut its sleep short.
      Effect.forkDetach(Effect.andThen(Effect.interruptible(Effect.sleep(timeout)), Effect.sync(onExpiry))),
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
}
