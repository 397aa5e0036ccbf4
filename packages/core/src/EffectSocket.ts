/**
 * Interop with Effect 4's own socket (`effect/socket`), both ways.
 *
 * - An `effect/socket` `Socket` (a route's `HttpServerRequest.upgrade`, `Socket.makeWebSocket`,
 *   `NodeSocket.makeNet`...) becomes a `MessageSocket` ({@link fromSocket}), so a `ByteChannel`
 *   and its codecs run on it; {@link upgrade} is the `effect/http` route handler that does it.
 * - A `ByteChannel` becomes an `effect/socket` `Socket` ({@link toSocket}), so code written
 *   against `effect/socket` — `effect/rpc`'s `RpcClient.layerProtocolSocket`, `Socket.toChannel`,
 *   your own — runs over bytechannel's transports with their bounds, backpressure and deadlines.
 *   `NodeSocketServer` in `@bytechannel/node` is the server side: `NodeServer` as a `SocketServer`.
 *
 * Imported by its own path: `import * as EffectSocket from "@bytechannel/core/EffectSocket"`.
 *
 * @since 1.0.0
 */
import type * as Effect from "effect/Effect"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import type * as Scope from "effect/Scope"
import type * as Socket from "effect/socket/Socket"
import type * as ByteChannel from "./ByteChannel.js"
import * as internal from "./internal/effectSocket.js"
import type { MessageSocket, SocketOptions } from "./MessageSocket.js"
import type { SocketError } from "./SocketError.js"

/**
 * Opens `socket` (acquires its reader: a client connects, an upgrade answers its 101) and runs
 * it as a `MessageSocket` until the scope closes, which runs the close handshake. Fails with
 * `SocketError` reason `Open` (or `OpenTimeout`) when the socket cannot open.
 *
 * What bytechannel adds: receiving is bounded by `options` (the socket is pulled only while the
 * receive queue has room), text and binary messages stay apart, and the close code and reason
 * (1006 for a lost connection) reach `closed` and `read`.
 *
 * What it cannot add, as the socket does not offer it:
 * - **An `effect/socket` WebSocket's writes do not wait for its send buffer** (its writer calls
 *   `ws.send` and returns), so `send` waits only for messages not yet handed to the socket's
 *   writer: on that path send backpressure is only what `effect/socket` gives, and a peer that
 *   reads nothing grows the WebSocket's own buffer. A Node TCP socket (`NodeSocket.makeNet`,
 *   effect's `NodeSocketServer.make`) writes with real backpressure, waiting for `drain`.
 * - What the socket buffers before it is pulled is its own bound: a `ws` WebSocket (an
 *   `effect/http` upgrade on Node) pauses at 64 KiB; the global `WebSocket` (browsers, and
 *   `NodeSocket.layerWebSocketConstructor` on Node) cannot pause and buffers without bound unless
 *   the socket was made with a `highWaterMark`, past which it fails the connection.
 * - `terminate` closes the socket's reader scope, the one way an `effect/socket` socket offers
 *   to let go of a connection (a WebSocket sends a close frame there rather than dropping).
 *
 * Prefer bytechannel's own connectors and servers where you choose the transport.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import * as EffectSocket from "@bytechannel/core/EffectSocket"
 * import { Effect, Stream } from "effect"
 * import * as Socket from "effect/socket/Socket"
 *
 * // A WebSocket made by effect/socket, read and written as lines through a ByteChannel. The
 * // global WebSocket cannot pause: `highWaterMark` bounds what it buffers before it is pulled.
 * const program = Effect.gen(function*() {
 *   const socket = yield* Socket.makeWebSocket("ws://127.0.0.1:8080/lines", { highWaterMark: 1024 * 1024 })
 *   const messages = yield* EffectSocket.fromSocket(socket, { receiveHighWaterMessages: 64 })
 *   const lines = ByteChannel.framed(ByteChannel.fromSocket(messages), Codec.lines())
 *   yield* lines.send("hello")
 *   return yield* lines.messages.pipe(Stream.runHead)
 * }).pipe(Effect.scoped, Effect.provide(Socket.layerWebSocketConstructorGlobal))
 * ```
 *
 * @since 1.0.0
 * @category constructors
 */
export const fromSocket: (
  socket: Socket.Socket,
  options?: SocketOptions
) => Effect.Effect<MessageSocket, SocketError, Scope.Scope> = internal.fromSocket

/**
 * An `effect/http` route handler that upgrades the request to a WebSocket and serves it with
 * `handler` as a `ByteChannel` (over {@link fromSocket}, with its caveat on send backpressure):
 * the connection closes with 1000 when the handler completes, 1011 when it fails and 1001 when
 * it is interrupted. A request that cannot be upgraded is answered with HTTP 400.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import * as EffectSocket from "@bytechannel/core/EffectSocket"
 * import { Stream } from "effect"
 * import { HttpRouter } from "effect/http"
 *
 * // A route of an effect/http server that answers each line in upper case.
 * export const LinesRoute = HttpRouter.add(
 *   "GET",
 *   "/lines",
 *   EffectSocket.upgrade((channel) => {
 *     const lines = ByteChannel.framed(channel, Codec.lines())
 *     return lines.messages.pipe(Stream.map((line) => line.toUpperCase()), Stream.run(lines.sink))
 *   }, { receiveHighWaterMessages: 16 })
 * )
 * ```
 *
 * @since 1.0.0
 * @category servers
 */
export const upgrade: <E, R>(
  handler: (channel: ByteChannel.ByteChannel) => Effect.Effect<void, E, R>,
  options?: SocketOptions & { readonly channel?: ByteChannel.ByteChannelOptions | undefined }
) => Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | Exclude<R, Scope.Scope>
> = internal.upgrade

/**
 * `channel` as an `effect/socket` `Socket`, for code written against `effect/socket`.
 *
 * - The reader pulls one chunk of the channel per `pull`, only when pulled: nothing is read
 *   ahead, so the channel's receive bounds hold (the transport is paused past them). Chunks are
 *   bytes (a text message is read by the channel's `text` policy). The connection ending fails
 *   `pull` with a `SocketCloseError` carrying the close code and reason, whatever the code (1006
 *   when it was lost), as every `effect/socket` socket does; other failures map to
 *   `SocketReadError`, `SocketWriteError` or `SocketOpenError`, with bytechannel's error as cause.
 * - The writer's `write` and `writeAll` wait on the channel's send backpressure (and fail after
 *   close); a string is sent as its UTF-8 bytes; a `Socket.CloseEvent` runs the close handshake
 *   with its code and reason (protocol codes such as 1009 allowed) and completes when it is done.
 * - It is one connection: the reader's scope owns it, as `effect/socket`'s contract says —
 *   closing that scope closes the channel (1000; 1011 when the scope failed, 1001 when it was
 *   interrupted) — and a reader acquired after the connection ended fails with its close. Keep
 *   the channel's own scope for its lifetime; `effect/rpc`'s client does not reconnect over it.
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import * as EffectSocket from "@bytechannel/core/EffectSocket"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect, Layer } from "effect"
 * import { RpcClient, RpcSerialization } from "effect/rpc"
 * import * as Socket from "effect/socket/Socket"
 *
 * // effect/rpc's client protocol over a bytechannel connection (its bounds, backpressure, deadlines).
 * const SocketLive = Layer.effect(Socket.Socket)(
 *   Effect.map(ByteChannel.connect("ws://127.0.0.1:8080/rpc", { openTimeout: "5 seconds" }), EffectSocket.toSocket)
 * )
 *
 * export const ProtocolLive = RpcClient.layerProtocolSocket().pipe(
 *   Layer.provide([SocketLive, RpcSerialization.layerNdjson]),
 *   Layer.provide(NodeConnector.layer)
 * )
 * ```
 *
 * @since 1.0.0
 * @category conversions
 */
export const toSocket: (channel: ByteChannel.ByteChannel) => Socket.Socket = internal.toSocket
