/**
 * For transport authors: a transport is what moves messages (a `ws` socket, a TCP socket, a
 * browser `WebSocket`); the shared engine does the rest — the bounded receive queue and its
 * pause/resume, send backpressure, the close handshake and its timeout, events and metrics. A
 * transport is one short function: given the engine's {@link Controller}, wire the platform's
 * events to its `on*` callbacks and return the {@link Transport} actions.
 *
 * @example
 * ```ts
 * import { Transport } from "@bytechannel/core"
 * import { Effect } from "effect"
 *
 * // A loopback transport: what is written comes back.
 * const loopback = Transport.makeScoped((controller) => ({
 *   write: (message) => controller.onMessage(message),
 *   bufferedAmount: () => 0,
 *   sendClose: (code, reason) => controller.onClose({ code, reason, wasClean: true }),
 *   terminate: () => controller.onClose({ code: 1006, reason: "", wasClean: false }),
 *   pause: () => {},
 *   resume: () => {}
 * }))
 *
 * const program = Effect.gen(function*() {
 *   const { socket } = yield* loopback
 *   yield* socket.send("ping")
 *   return yield* socket.receive // Option.some("ping")
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import { withDeadline } from "./internal/deadline.js"
import { closeOnScopeClose } from "./internal/close.js"
import * as internal from "./internal/messageSocket.js"
import type { Message, MessageSocket, SocketEvent, SocketOptions } from "./MessageSocket.js"
import { SocketError } from "./SocketError.js"

/**
 * What a transport does for the engine. None of these may throw; failures are reported through
 * the {@link Controller}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transport {
  /** Hands one message to the network. */
  readonly write: (message: Message) => void
  /** What the transport holds unsent, in the unit of `sendHighWaterMark` (bytes for real sockets). */
  readonly bufferedAmount: () => number
  /** Sends a close frame (the start, or the answer, of a close handshake). */
  readonly sendClose: (code: number, reason: string) => void
  /** Drops the connection at once. */
  readonly terminate: () => void
  /** Stops reading from the network (receive backpressure). */
  readonly pause: () => void
  /** Starts reading from the network again. */
  readonly resume: () => void
  /** The negotiated subprotocol ("" or absent when none); read when asked, as a client learns it at open. */
  readonly protocol?: (() => string) | undefined
}

/**
 * The engine, as its transport drives it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Controller {
  /** The socket users get. */
  readonly socket: MessageSocket
  /** A message arrived from the network. */
  readonly onMessage: (message: Message) => void
  /** The transport's send buffer went down: wakes waiting senders. */
  readonly onDrain: () => void
  /**
   * The connection is closed: both close frames were exchanged (call it as soon as they were,
   * with the peer's code, even while the transport still tears down), or it was lost. Later
   * calls are ignored.
   */
  readonly onClose: (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void
  /**
   * The transport failed (a protocol error it detected, a dead peer): `receive` fails with
   * `error` once the messages before it were taken, sending is over, and the close counts as
   * this side's.
   */
  readonly onError: (error: SocketError) => void
  /** Publishes an out-of-band event. */
  readonly emit: (event: SocketEvent) => void
  /** The socket's state as the engine sees it. */
  readonly state: () => "open" | "closing" | "closed"
  /** Messages received and not yet taken. */
  readonly receiveQueueSize: () => number
  /** Messages received since the socket opened (for liveness checks). */
  readonly receivedMessages: () => number
  /** Times the transport was paused by receive backpressure (for liveness checks). */
  readonly receivePauses: () => number
  /** Whether the transport is paused by receive backpressure now. */
  readonly receivePaused: () => boolean
  /** What the transport holds unsent now (its `bufferedAmount`), for liveness checks. */
  readonly sendBuffered: () => number
  /**
   * Judges the send buffer by the send-stall rule now, even with no send waiting: if what it
   * holds does not drain at all for `sendStallTimeout`, the connection is closed with 1008 and
   * fails with `SendTimeout`. For liveness checks that cannot judge a peer behind unsent data.
   */
  readonly watchSendStall: Effect.Effect<void>
}

/**
 * The user's bounds and timeouts, and what the transport can do.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransportOptions extends SocketOptions {
  /**
   * What to do when the receive queue reaches its high-water mark: `"pause"` the transport
   * (real backpressure, the default), or `"fail"` for transports that cannot pause (the browser
   * `WebSocket`): fail `receive` with `ReceiveOverflow` and close with 1009. The transport's to
   * say, never the user's: set it after spreading the user's options.
   */
  readonly receiveOverflow?: "pause" | "fail" | undefined
}

/**
 * The engine over the transport that `build` returns; `build` gets the controller first, so the
 * transport's listeners can call it. The socket is not closed by any scope (see
 * {@link makeScoped}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  build: (controller: Controller) => Transport,
  options?: TransportOptions
) => Effect.Effect<Controller> = internal.makeWith

/**
 * {@link make}, with the socket closed when the scope closes (1000, then dropped after the close
 * timeout).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScoped = (
  build: (controller: Controller) => Transport,
  options?: TransportOptions
): Effect.Effect<Controller, never, Scope.Scope> =>
  Effect.tap(internal.makeWith(build, options), (controller) => closeOnScopeClose(controller.socket))

/**
 * Waits for a transport's opening handshake with a deadline (not an idle timer): `opened`
 * completes when it succeeded or failed; past `timeout` it fails with `SocketError` reason
 * `OpenTimeout`. On any failure `abort` drops what was opening.
 *
 * @since 0.1.0
 * @category combinators
 */
export const awaitOpen = (
  opened: Deferred.Deferred<void, SocketError>,
  options: { readonly timeout: Duration.Input; readonly abort: () => void; readonly what?: string | undefined }
): Effect.Effect<void, SocketError> => {
  const timeout = Duration.fromInputUnsafe(options.timeout)
  return Effect.onError(
    withDeadline(Deferred.await(opened), timeout, () => {
      Deferred.doneUnsafe(
        opened,
        Exit.fail(
          new SocketError({ reason: "OpenTimeout", detail: `no ${options.what ?? "handshake"} within ${Duration.format(timeout)}` })
        )
      )
    }),
    // An interrupted connect (the caller gave up) aborts too, and its deadline stops with it.
    () => Effect.sync(options.abort)
  )
}
