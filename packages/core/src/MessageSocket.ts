/**
 * The per-connection transport contract: ordered text and binary messages in through a
 * bounded, pull-based queue (the transport is paused when it is full), `send` that waits on the
 * transport's backpressure, a close handshake with code and reason, and out-of-band events.
 *
 * Transports (memory, `ws`, TCP, browser) implement it by handing a {@link Transport} to
 * {@link make} and driving the returned {@link Controller} from their callbacks, so every
 * transport shares one implementation of queueing, backpressure and close rules.
 *
 * @since 0.1.0
 */
import type * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/messageSocket.js"
import type { CloseArgumentError, SocketError } from "./SocketError.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A WebSocket message: a `string` is a text frame, a `Uint8Array` a binary frame.
 *
 * @since 0.1.0
 * @category models
 */
export type Message = string | Uint8Array

/**
 * How a connection ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface CloseInfo {
  /** The close code; 1006 when the connection was lost without a close frame. */
  readonly code: number
  /** The close reason sent with the code (may be empty). */
  readonly reason: string
  /** Whether both close frames were exchanged. */
  readonly wasClean: boolean
  /** Whether this side started the close (by `close`, a timeout, or a protocol error it detected). */
  readonly local: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CloseOptions {
  /** 1000 or 3000–4999. Default 1000. */
  readonly code?: number | undefined
  /** At most 123 UTF-8 bytes. Default empty. */
  readonly reason?: string | undefined
  /** How long to wait for the peer's close frame before dropping the transport. Default 5 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Out-of-band events of a connection. A slow subscriber loses the oldest events rather than
 * slowing the connection.
 *
 * @since 0.1.0
 * @category models
 */
export type SocketEvent = Data.TaggedEnum<{
  Open: { readonly protocol: string }
  Ping: { readonly data: Uint8Array }
  Pong: { readonly data: Uint8Array }
  ReceivePaused: { readonly messages: number; readonly bytes: number }
  ReceiveResumed: { readonly messages: number; readonly bytes: number }
  Error: { readonly error: SocketError }
  Close: { readonly info: CloseInfo }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const SocketEvent: Data.TaggedEnum.Constructor<SocketEvent> = internal.SocketEvent

/**
 * @since 0.1.0
 * @category models
 */
export interface MessageSocket {
  readonly [TypeId]: TypeId
  /** The subprotocol the server selected ("" when none). */
  readonly protocol: string
  /**
   * The next message, `None` once the connection has closed and every message received before
   * the close was taken. Fails when the transport failed (see {@link SocketError}). Messages
   * are taken one at a time by any number of callers, in arrival order.
   */
  readonly receive: Effect.Effect<Option.Option<Message>, SocketError>
  /** Sends one message, waiting while the transport's send buffer is above its high-water mark. Fails at once after close. */
  readonly send: (message: Message) => Effect.Effect<void, SocketError>
  /** Sends messages in order, as `send` does each; written in one loop while the buffer has room. */
  readonly sendAll: (messages: ReadonlyArray<Message>) => Effect.Effect<void, SocketError>
  /**
   * Runs the close handshake and completes with how the connection ended: when the peer's
   * close frame arrives, or after `timeout`, when the transport is dropped.
   */
  readonly close: (options?: CloseOptions) => Effect.Effect<CloseInfo, CloseArgumentError>
  /**
   * Like `close`, but for servers and protocol errors: also accepts the protocol's own codes
   * (1001–1003, 1007–1014) that applications may not send.
   */
  readonly closeWithProtocolCode: (options: CloseOptions) => Effect.Effect<CloseInfo, CloseArgumentError>
  /** Drops the transport without a close handshake. */
  readonly terminate: Effect.Effect<void>
  /** Completes when the connection has closed, however it closed. */
  readonly closed: Effect.Effect<CloseInfo>
  /** Events from the moment of subscription; the stream ends after the `Close` event. */
  readonly events: Stream.Stream<SocketEvent>
}

/**
 * What a transport does for the shared socket engine. None of these may throw; failures are
 * reported through the {@link Controller}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transport {
  /** Hands one message to the transport. */
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
 * The handle a transport drives from its callbacks.
 *
 * @since 0.1.0
 * @category models
 */
export interface Controller {
  readonly socket: MessageSocket
  /** A message arrived from the network. */
  readonly offer: (message: Message) => void
  /** The transport's send buffer went down: wakes waiting senders. */
  readonly drained: () => void
  /**
   * The connection is closed: both close frames were exchanged (call it as soon as they were,
   * with the peer's code, even while the transport still tears down), or it was lost. Later
   * calls are ignored.
   */
  readonly closed: (info: { readonly code: number; readonly reason: string; readonly wasClean: boolean }) => void
  /** The transport failed: `receive` fails with `error` once the messages before it were taken. */
  readonly fail: (error: SocketError) => void
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
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SocketOptions {
  /** Messages queued before the transport is paused. Default 64. */
  readonly receiveHighWaterMessages?: number | undefined
  /** Bytes queued before the transport is paused. Default 4 MiB. */
  readonly receiveHighWaterBytes?: number | undefined
  /** Fraction of the high-water marks at which a paused transport is resumed. Default 0.5. */
  readonly receiveResumeRatio?: number | undefined
  /** `send` waits while `bufferedAmount()` is at or above this. Default 1 MiB. */
  readonly sendHighWaterMark?: number | undefined
  /** Close handshake timeout used when `close` is given none (and by scope finalizers). Default 5 seconds. */
  readonly closeTimeout?: Duration.DurationInput | undefined
}

/**
 * What a transport tells the engine beside the user's bounds: what it can do. Users never set
 * these (a transport that cannot pause must not be told to).
 * @since 0.1.0
 * @category models
 */
export interface ControllerOptions extends SocketOptions {
  /**
   * What to do when the receive queue reaches its high-water mark: `"pause"` the transport
   * (real backpressure), or `"fail"` for transports that cannot pause (the browser
   * `WebSocket`): fail `receive` with `ReceiveOverflow` and close with 1009.
   */
  readonly receiveOverflow?: "pause" | "fail" | undefined
}

/**
 * Builds the shared socket engine over a transport.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (transport: Transport, options?: ControllerOptions) => Effect.Effect<Controller> = internal.make

/**
 * Closes the socket when the scope closes (code 1000, then drop after the close timeout).
 *
 * @since 0.1.0
 * @category combinators
 */
export const closeOnScopeClose: (socket: MessageSocket, options?: CloseOptions) => Effect.Effect<
  void,
  never,
  Scope.Scope
> = internal.closeOnScopeClose

/**
 * Checks a close code and reason the way the browser `WebSocket.close` does.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateClose: (
  options: CloseOptions | undefined,
  allowProtocolCodes?: boolean
) => Effect.Effect<{ readonly code: number; readonly reason: string }, CloseArgumentError> = internal.validateClose

/**
 * @since 0.1.0
 * @category refinements
 */
export const isMessageSocket: (u: unknown) => u is MessageSocket = internal.isMessageSocket
