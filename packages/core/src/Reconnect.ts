/**
 * Reconnection, explicitly: `sessions` is a stream of connected channels, a new one each time
 * the previous ends, spaced by an Effect `Schedule`; `framed` keeps typed messages flowing
 * across sessions through a bounded outbox.
 *
 * Guarantees (and their limits):
 * - A clean close by the server (1000), a terminal close code (default 1008, 1009 and
 *   4000–4099) or a refused handshake (HTTP 401/403) ends the sessions instead of retrying.
 * - The attempt counter, and so the backoff, resets only after a session stayed up for
 *   `minUptime`: a server that accepts and drops at once cannot cause a reconnect storm.
 * - **Delivery across a reconnect is at-most-once.** `send` completes when the message was
 *   handed to an open socket's transport; if that socket then dies, the message may be lost and
 *   is never sent again. A message that was still in the outbox when a socket died is sent on
 *   the next session, in order, before newer ones. Nothing is ever sent twice.
 * - **A bad frame from the peer ends `framed`.** A frame that does not decode or is over the
 *   codec's bound (a `CodecError`), or a text message under `text: "error"` (a
 *   `ProtocolError`), means the two sides do not speak the same protocol: reconnecting would
 *   not help, so it is terminal, like a terminal close code. The connection is closed (1007,
 *   1009 for a frame too large, 1003 for text), `Disconnected` and `GaveUp` (`"BadFrame"`)
 *   are emitted, no new session is opened, queued and later sends fail with `NotSent`
 *   (`"Ended"`), and `messages` delivers every message decoded before the bad frame, then
 *   fails with that error. (To survive bad frames instead, use a codec that skips them.)
 * - **`framed` lives as long as its scope.** When the scope closes, the sessions stop, every
 *   queued `send` fails at once with `NotSent` (`"Ended"`), as does every later one, and
 *   `messages` and `events` end.
 *
 * @since 0.1.0
 */
import type * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as ByteChannel from "./ByteChannel.js"
import type { Codec } from "./Codec.js"
import type { CodecError } from "./CodecError.js"
import type * as Connector from "./Connector.js"
import * as internal from "./internal/reconnect.js"
import type { CloseInfo } from "./MessageSocket.js"
import type { SocketError } from "./SocketError.js"

/**
 * Why the sessions ended.
 *
 * @since 0.1.0
 * @category models
 */
export type GaveUpReason = "CleanClose" | "TerminalCode" | "Refused" | "Exhausted" | "BadFrame"

/**
 * @since 0.1.0
 * @category models
 */
export type ReconnectEvent = Data.TaggedEnum<{
  Connecting: { readonly attempt: number }
  Connected: { readonly attempt: number }
  Disconnected: { readonly info: CloseInfo }
  Retrying: { readonly attempt: number; readonly delay: Duration.Duration; readonly error: SocketError | undefined }
  /** For `"BadFrame"` (`Reconnect.framed` only), the `CodecError` or `ProtocolError` it raised. */
  GaveUp: { readonly reason: GaveUpReason; readonly error: ByteChannel.ReadError | CodecError | undefined }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const ReconnectEvent: Data.TaggedEnum.Constructor<ReconnectEvent> = internal.ReconnectEvent

/**
 * @since 0.1.0
 * @category models
 */
export interface ReconnectOptions extends ByteChannel.ByteChannelOptions, Connector.ConnectOptions {
  /**
   * Delays between attempts; fed the error (or `undefined` after a session ended). Default:
   * exponential from 500 ms, factor 2, capped at 30 s, full jitter, forever.
   */
  readonly schedule?: Schedule.Schedule<unknown, SocketError | undefined> | undefined
  /** A session must stay up this long to reset the attempt counter. Default 5 seconds. */
  readonly minUptime?: Duration.Input | undefined
  /** Close codes that end the sessions instead of retrying. Default 1008, 1009, 4000–4099. */
  readonly isTerminalCode?: ((code: number) => boolean) | undefined
  /** Called with every state change. */
  readonly onEvent?: ((event: ReconnectEvent) => Effect.Effect<void>) | undefined
}

/**
 * A new connected channel each time the previous one closes. The stream ends on a clean close
 * by the server, and fails on a terminal close code, a refused handshake, or when the schedule
 * gives up. Consume each session before pulling the next (`Stream.flatMap` does), and catch
 * its read error if the next session should follow an unclean close.
 *
 * @example
 * ```ts
 * import { Reconnect } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect, Schedule, Stream } from "effect"
 *
 * // Read every session's bytes; after an unclean close, wait and connect again (at most 10 times in a row).
 * const program = Reconnect.sessions("wss://feed.example/ws", {
 *   schedule: Schedule.exponential("1 second").pipe(Schedule.upTo({ times: 10 })),
 *   minUptime: "10 seconds"
 * }).pipe(
 *   Stream.flatMap((channel) => channel.read.pipe(Stream.catchTag("SocketError", () => Stream.empty))),
 *   Stream.runForEach((chunk) => Effect.log(`${chunk.length} bytes`)),
 *   Effect.provide(NodeConnector.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const sessions: (
  url: string | URL,
  options?: ReconnectOptions
) => Stream.Stream<ByteChannel.ByteChannel, SocketError, Connector.Connector> = internal.sessions

/**
 * What happens to `send` when the outbox is full: wait for room (`"suspend"`, the default),
 * fail at once (`"fail"`), or drop the oldest queued message, whose `send` then fails
 * (`"dropOldest"`).
 *
 * @since 0.1.0
 * @category models
 */
export type OutboxPolicy = "suspend" | "fail" | "dropOldest"

/**
 * Why a `send` did not hand its message to a socket.
 *
 * @since 0.1.0
 * @category errors
 */
export type NotSent = internal.NotSent

/**
 * @since 0.1.0
 * @category errors
 */
export const NotSent: typeof internal.NotSent = internal.NotSent

/**
 * @since 0.1.0
 * @category models
 */
export interface FramedOptions<A> extends ReconnectOptions {
  /** Messages waiting for a socket. Default 1024. */
  readonly outboxSize?: number | undefined
  /** Default `"suspend"`. */
  readonly outboxPolicy?: OutboxPolicy | undefined
  /** Decoded messages buffered for a slow consumer before reading pauses. Default 256. */
  readonly inboxSize?: number | undefined
  /**
   * An application-level heartbeat through the codec, for transports without protocol pings
   * (browsers): `ping` is sent every `interval`; a session that receives nothing at all for
   * `idleTimeout` (default twice the interval) is treated as a dead peer and dropped, and the
   * sessions reconnect. Messages for which `isHeartbeat` holds are not passed to `messages`.
   */
  readonly heartbeat?: {
    readonly interval: Duration.Input
    readonly idleTimeout?: Duration.Input | undefined
    readonly ping: A
    readonly isHeartbeat?: ((message: A) => boolean) | undefined
  } | undefined
}

/**
 * Typed messages that survive reconnects.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReconnectingFramed<A> {
  /**
   * Messages from every session, in order. Ends when the sessions end cleanly or the scope
   * closes; fails when they end with an error: the `SocketError` of a terminal close, a refusal
   * or an exhausted schedule, or the `CodecError` (or `ProtocolError`) of a bad frame from the
   * peer, after the messages decoded before it. A failure is final: nothing follows it.
   */
  readonly messages: Stream.Stream<A, ByteChannel.ReadError | CodecError>
  /**
   * Queues `value`; completes when it was handed to an open socket's transport (at-most-once
   * from then on), fails with `NotSent` when the outbox policy refused or dropped it, or with
   * `NotSent` (`"Ended"`) at once when the sessions have ended or the scope has closed, whether
   * it was queued before or sent after. Interrupting a waiting `send` (a timeout, a race)
   * withdraws the message from the outbox, so a retry never sends it twice — unless it was
   * already being handed to a socket at that moment.
   */
  readonly send: (value: A) => Effect.Effect<void, NotSent | CodecError>
  /** State changes from the moment of subscription. */
  readonly events: Stream.Stream<ReconnectEvent>
  /** Messages waiting in the outbox now. */
  readonly pending: Effect.Effect<number>
}

/**
 * Runs `sessions` in the background for as long as the scope is open. Closing the scope ends
 * it: pending and later sends fail with `NotSent` (`"Ended"`), `messages` and `events` end. A
 * bad frame from the peer ends it too, and fails `messages` with its `CodecError` (see the
 * module's guarantees).
 *
 * @example
 * ```ts
 * import { Codec, Reconnect } from "@bytechannel/core"
 * import { BrowserConnector } from "@bytechannel/browser"
 * import { Effect, Schema, Stream } from "effect"
 *
 * const Message = Schema.Union([
 *   Schema.Struct({ type: Schema.Literal("say"), text: Schema.String }),
 *   Schema.Struct({ type: Schema.Literal("ping") })
 * ])
 *
 * const program = Effect.gen(function*() {
 *   const chat = yield* Reconnect.framed("wss://chat.example/ws", Codec.ndjson(Message), {
 *     outboxSize: 1024,
 *     outboxPolicy: "suspend",
 *     heartbeat: { interval: "15 seconds", ping: { type: "ping" }, isHeartbeat: (m) => m.type === "ping" }
 *   })
 *   yield* chat.send({ type: "say", text: "hi" }) // completes when handed to an open socket
 *   yield* chat.messages.pipe(Stream.runForEach((m) => Effect.log(m))) // continues across sessions
 * }).pipe(Effect.scoped, Effect.provide(BrowserConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const framed: <A>(
  url: string | URL,
  codec: Codec<A>,
  options?: FramedOptions<A>
) => Effect.Effect<ReconnectingFramed<A>, never, Connector.Connector | Scope.Scope> = internal.framed
