/**
 * A message socket used as an ordered byte stream: `read` is a `Stream` of bytes, `write` a
 * `Sink` of bytes, whatever the message boundaries on the wire.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import type { Codec } from "./Codec.js"
import type * as Connector from "./Connector.js"
import type * as Framed from "./Framed.js"
import * as internal from "./internal/byteChannel.js"
import * as internalFramed from "./internal/framed.js"
import * as internalHandle from "./internal/handle.js"
import type { CloseInfo, CloseOptions, MessageSocket, SocketEvent } from "./MessageSocket.js"
import type { CloseArgumentError, ProtocolError, SocketError } from "./SocketError.js"

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
 * What `read` does with a text message: `"bytes"` (its UTF-8 bytes, the default), `"error"`
 * (fail with `ProtocolError` and close with 1003) or `"ignore"` (skip it).
 *
 * @since 0.1.0
 * @category models
 */
export type TextPolicy = "bytes" | "error" | "ignore"

/**
 * @since 0.1.0
 * @category models
 */
export interface ByteChannelOptions {
  /** Default `"bytes"`. */
  readonly text?: TextPolicy | undefined
  /** Largest binary message written; a larger write is split into several messages. Default 1 MiB. */
  readonly maxMessageSize?: number | undefined
  /** How long the close handshake may take before the transport is dropped. Default: the socket's (5 seconds unless its transport sets another). */
  readonly closeTimeout?: Duration.Input | undefined
  /**
   * Close codes from the peer that end `read` (EOF) rather than fail it. Default `[1000]`.
   * 1006 (connection lost) is never clean.
   */
  readonly cleanCloseCodes?: Iterable<number> | undefined
}

/**
 * Errors of `read`.
 *
 * @since 0.1.0
 * @category models
 */
export type ReadError = SocketError | ProtocolError

/**
 * @since 0.1.0
 * @category models
 */
export interface ByteChannel {
  readonly [TypeId]: TypeId
  /** The message socket underneath. */
  readonly socket: MessageSocket
  /**
   * The bytes received, in order. Ends when the peer closes with a clean code or this side
   * closed; fails with `SocketError` (carrying `code` and `closeReason`) on any other close or
   * when the connection is lost (1006). Reading is resumable and cancel-safe: a consumer that
   * stops early, or a read interrupted while it waits (`Effect.timeout`, `race`), loses no bytes
   * and leaves the channel open for the next reader; closing is the scope's job.
   */
  readonly read: Stream.Stream<Uint8Array, ReadError>
  /**
   * At most `maxBytes` of the next received bytes (the rest is kept for the next read); `None`
   * at EOF. Cancel-safe: interrupted while waiting, it takes nothing and closes nothing.
   */
  readonly readChunk: (maxBytes?: number) => Effect.Effect<Option.Option<Uint8Array>, ReadError>
  /** Writes every chunk, each as one binary message (split above `maxMessageSize`), with backpressure. */
  readonly write: Sink.Sink<void, Uint8Array, never, SocketError>
  /** Writes one chunk; waits while the transport's send buffer is full; fails at once after close. */
  readonly send: (bytes: Uint8Array) => Effect.Effect<void, SocketError>
  /** Runs the close handshake (code 1000 by default) and completes with how the connection ended. */
  readonly close: (options?: CloseOptions) => Effect.Effect<CloseInfo, CloseArgumentError>
  /** Completes when the connection has closed. */
  readonly closed: Effect.Effect<CloseInfo>
  /** Out-of-band events (pings, pauses, errors, close). */
  readonly events: Stream.Stream<SocketEvent>
}

/**
 * @since 0.1.0
 * @category refinements
 */
export const isByteChannel: (u: unknown) => u is ByteChannel = internal.isByteChannel

/**
 * Wraps a connected message socket. The caller keeps owning the socket's lifetime.
 *
 * @example
 * ```ts
 * import { ByteChannel, MemorySocket } from "@bytechannel/core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const [a, b] = yield* MemorySocket.pair()
 *   const client = ByteChannel.fromSocket(a)
 *   const server = ByteChannel.fromSocket(b, { text: "error" })
 *   yield* client.send(new Uint8Array([1, 2, 3]))
 *   return yield* server.readChunk() // Option.some(Uint8Array [1, 2, 3])
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket: (socket: MessageSocket, options?: ByteChannelOptions) => ByteChannel = internal.fromSocket

/**
 * Connects with the `Connector` in the context; the channel closes when the scope closes.
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/echo")
 *   yield* channel.send(new TextEncoder().encode("hello"))
 *   const reply = yield* channel.read.pipe(Stream.decodeText(), Stream.runHead)
 *   yield* channel.close({ code: 1000, reason: "done" })
 *   return reply
 * }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect: (
  url: string | URL,
  options?: ByteChannelOptions & Connector.ConnectOptions
) => Effect.Effect<ByteChannel, SocketError, Connector.Connector | Scope.Scope> = internal.connect

/**
 * The channel's bytes as a WHATWG `ReadableStream`, pulled on demand. Cancelling the stream
 * closes the channel with 1000 (unlike interrupting an Effect read, which leaves it open).
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect } from "effect"
 *
 * // Any WHATWG consumer reads the channel, pulling one chunk at a time.
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/report")
 *   return yield* Effect.promise(() => new Response(ByteChannel.toReadableStream(channel)).text())
 * }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toReadableStream: (self: ByteChannel, options?: {
  readonly strategy?: QueuingStrategy<Uint8Array> | undefined
}) => ReadableStream<Uint8Array> = internal.toReadableStream

/**
 * A WHATWG `WritableStream` that sends each chunk with backpressure. Closing it closes the
 * channel with 1000; aborting it closes the channel with 1011.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toWritableStream: (self: ByteChannel) => WritableStream<Uint8Array> = internal.toWritableStream

/**
 * The channel's bytes as an `AsyncIterable`; leaving the loop early closes the channel with
 * 1000 (unlike interrupting an Effect read, which leaves it open).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toAsyncIterable: (self: ByteChannel) => AsyncIterable<Uint8Array> = internal.toAsyncIterable

/**
 * Typed messages over the channel with `codec`, the one way to frame a channel (`Framed.make` is
 * a deprecated alias): each encoded frame is written as one message, and `sink` writes the frames
 * of a chunk in one batched write, as `write` does.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import { Effect, Schema, Stream } from "effect"
 *
 * const Chat = Schema.Struct({ from: Schema.String, text: Schema.String })
 *
 * const chat = (channel: ByteChannel.ByteChannel) =>
 *   Effect.gen(function*() {
 *     const messages = ByteChannel.framed(channel, Codec.ndjson(Chat))
 *     yield* messages.send({ from: "ann", text: "hi" })
 *     yield* messages.messages.pipe(Stream.runForEach((m) => Effect.log(`${m.from}: ${m.text}`)))
 *   })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const framed: <A>(self: ByteChannel, codec: Codec<A>, options?: Framed.FramedOptions) => Framed.Framed<A> =
  internalFramed.make

/**
 * Serves one connection with `handler` the way bytechannel's servers do, in the calling fiber:
 * the handler runs in a scope of its own, then the connection is closed with 1000 when the
 * handler completed, 1011 when it failed, and 1001 ("going away") when the fiber was
 * interrupted (a server shutting down). A server runs one such fiber per connection (e.g. in a
 * `FiberSet`), so nothing of a finished connection stays behind.
 *
 * @example
 * ```ts
 * import { ByteChannel, MemorySocket } from "@bytechannel/core"
 * import { Effect, Stream } from "effect"
 *
 * // The server side of a memory pair, served the way NodeServer serves a connection.
 * const program = Effect.gen(function*() {
 *   const [client, server] = yield* MemorySocket.pair()
 *   yield* Effect.forkScoped(ByteChannel.handle(server, (channel) => Stream.run(channel.read, channel.write)))
 *   const channel = ByteChannel.fromSocket(client)
 *   yield* channel.send(new Uint8Array([42]))
 *   return yield* channel.readChunk() // the echo
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category servers
 */
export const handle: <E, R>(
  socket: MessageSocket,
  handler: (channel: ByteChannel) => Effect.Effect<void, E, R>,
  options?: {
    readonly channel?: ByteChannelOptions | undefined
    readonly onError?: ((cause: Cause.Cause<E>) => Effect.Effect<void>) | undefined
  }
) => Effect.Effect<void, never, Exclude<R, Scope.Scope>> = internalHandle.handle
