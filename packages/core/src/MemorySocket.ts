/**
 * Two connected message sockets in memory, for tests of logic: a bounded queue per direction
 * (so backpressure is observable), optional re-chunking of binary messages in flight, and
 * fault injection (a lost connection, a peer that never answers a close).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/memorySocket.js"
import type { MessageSocket } from "./MessageSocket.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface MemorySocket extends MessageSocket {
  /** Loses the connection: both sides close with 1006, no close frames. */
  readonly drop: Effect.Effect<void>
  /** From now on this side ignores close frames, like a peer that hangs: the other side's `close` must time out. */
  readonly ignoreCloseFrames: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PairOptions {
  /** Messages queued per direction before the sender waits. Default 16. */
  readonly capacity?: number | undefined
  /** Re-splits every binary message in flight (each piece is delivered as its own message). */
  readonly rechunk?: ((bytes: Uint8Array) => ReadonlyArray<Uint8Array>) | undefined
  /** The subprotocol both sides report. */
  readonly protocol?: string | undefined
  /** Close handshake timeout used by scope finalizers. Default 5 seconds. */
  readonly closeTimeout?: Duration.Input | undefined
  /** How long a send may wait with no progress before the connection is closed (1008). Default 60 seconds. */
  readonly sendStallTimeout?: Duration.Input | undefined
}

/**
 * Two connected sockets; both are closed when the scope closes.
 *
 * @example
 * ```ts
 * import { ByteChannel, MemorySocket } from "@bytechannel/core"
 * import { Effect } from "effect"
 *
 * // Backpressure after 4 queued messages, and every message re-split in flight: what a
 * // byte-stream reader must cope with, reproducibly.
 * const program = Effect.gen(function*() {
 *   const [a, b] = yield* MemorySocket.pair({ capacity: 4, rechunk: MemorySocket.randomRechunk({ maxChunkSize: 3, seed: 1 }) })
 *   yield* ByteChannel.fromSocket(a).send(new Uint8Array(10))
 *   yield* b.drop // both sides close with 1006
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const pair: (options?: PairOptions) => Effect.Effect<readonly [MemorySocket, MemorySocket], never, Scope.Scope> =
  internal.pair

/**
 * Two connected sockets whose lifetime the caller manages.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePair: (options?: PairOptions) => Effect.Effect<readonly [MemorySocket, MemorySocket]> =
  internal.makePair

/**
 * A `rechunk` function that splits each message at pseudo-random points into pieces of
 * 1..`maxChunkSize` bytes, reproducibly from `seed`.
 *
 * @since 0.1.0
 * @category re-chunking
 */
export const randomRechunk: (options: {
  readonly maxChunkSize: number
  readonly seed?: number | undefined
}) => (bytes: Uint8Array) => ReadonlyArray<Uint8Array> = internal.randomRechunk
