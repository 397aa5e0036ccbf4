/**
 * The per-connection transport contract: ordered text and binary messages in through a
 * bounded, pull-based queue (the transport is paused when it is full), `send` that waits on the
 * transport's backpressure, a close handshake with code and reason, and out-of-band events.
 *
 * Transports (memory, `ws`, TCP, browser) build it with the `Transport` module
 * (`Transport.make`), driving its controller from their callbacks, so every transport shares one
 * implementation of queueing, backpressure and close rules.
 *
 * @since 0.1.0
 */
import type * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internalClose from "./internal/close.js"
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
  readonly timeout?: Duration.Input | undefined
}

/**
 * Out-of-band events of a connection. A slow subscriber loses the oldest events rather than
 * slowing the connection.
 *
 * @since 0.1.0
 * @category models
 */
export type SocketEvent = Data.TaggedEnum<{
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
  /**
   * Sends one message, waiting while the transport's send buffer is above its high-water mark.
   * Fails at once after close. Interrupted while it waits, nothing was sent; interrupted at any
   * other point, the message may already be with the transport (treat it as maybe sent).
   */
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
  readonly closeTimeout?: Duration.Input | undefined
  /**
   * How long a send may wait with the transport's send buffer not drained at all (the peer reads
   * nothing) before the connection is closed with 1008 and the send fails with `SendTimeout`.
   * Progress, not size: a slow reader that drains, however slowly, is never dropped. Default 60
   * seconds; `Infinity` turns the check off.
   */
  readonly sendStallTimeout?: Duration.Input | undefined
}

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
> = internalClose.closeOnScopeClose

/**
 * Checks a close code and reason the way the browser `WebSocket.close` does.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateClose: (
  options: CloseOptions | undefined,
  allowProtocolCodes?: boolean
) => Effect.Effect<{ readonly code: number; readonly reason: string }, CloseArgumentError> = internalClose.validateClose

/**
 * @since 0.1.0
 * @category refinements
 */
export const isMessageSocket: (u: unknown) => u is MessageSocket = internal.isMessageSocket
