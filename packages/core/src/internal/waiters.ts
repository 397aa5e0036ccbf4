/**
 * Fibers waiting for a change that plain code makes (a buffer got room, a message arrived, the
 * end came): `wait` suspends until the next `wakeAll`; a wait that is interrupted leaves the list.
 * The waiter only learns that something changed: it looks at the state itself when it resumes.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** @internal */
export class Waiters {
  private list: Array<() => void> = []

  /** Fibers waiting now. */
  get size(): number {
    return this.list.length
  }

  /** Resumes every fiber waiting now (each once); those that wait from here on wait for the next call. */
  wakeAll(): void {
    const list = this.list
    if (list.length === 0) return
    this.list = []
    for (const waiter of list) waiter()
  }

  /** Suspends until the next `wakeAll`. */
  readonly wait: Effect.Effect<void> = Effect.callback<void>((resume) => {
    const waiter = () => resume(Effect.void)
    this.list.push(waiter)
    return Effect.sync(() => {
      const at = this.list.indexOf(waiter)
      if (at !== -1) this.list.splice(at, 1)
    })
  })
}
