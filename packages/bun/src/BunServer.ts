/**
 * A WebSocket server on `Bun.serve` whose every accepted connection is a `ByteChannel` handled
 * in its own scope and fiber, under the same engine, options, bounds and close rules as
 * `NodeServer` (core's `Server` contract): HTTP 404 off `path`, 403 for an origin not in
 * `allowOrigins`, 1013 past `maxConnections`, 1009 past `maxPayload`, 1000 when the handler
 * completes, 1011 when it fails, 1001 when the server's scope closes; a busy port fails with
 * `SocketError` reason `Open`.
 *
 * What Bun does its own way:
 * - Receive backpressure is real: a full receive queue pauses the socket's reads
 *   (`ServerWebSocket.pause()`, Bun ≥ 1.4), so the client sees TCP backpressure; nothing fails.
 * - Sends wait on `getBufferedAmount()` against `sendHighWaterMark` and wake on Bun's `drain`;
 *   Bun's own `backpressureLimit` (past which it drops what is sent) is off. Bun answers pings
 *   itself and bounds the pongs it holds for a client that reads none (about 16 MiB).
 * - Bun ends the connection right after sending its close frame and does not wait for the
 *   peer's answer: a close started here completes, clean, as soon as the close frame leaves
 *   (after what was sent before it). A peer that reads nothing is dropped after `closeTimeout`
 *   (1006), as on Node.
 * - `handshakeTimeout` has no effect: Bun exposes no connection before its request head is
 *   complete, and bounds an incomplete head itself (about 10 seconds, not configurable; measured
 *   12 s on Bun 1.4.5); the upgrade then completes at once. Every other answer (404, 403, 426)
 *   closes its connection, so nothing lingers un-upgraded. No `maxPendingHandshakes` either.
 * - `path` is matched after Bun resolved the target's dot segments (`/x/../chat` is `/chat`;
 *   Node's server matches the target as written).
 * - `pingInterval` / `pongTimeout` are ours; Bun's own idle timeout and pings are off.
 *
 * @since 1.0.0
 */
import type { Server } from "@bytechannel/core"
import type { SocketError } from "@bytechannel/core"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/bunServer.js"

/**
 * Core's portable `Server.ServeOptions`, and what only Bun's server has.
 *
 * @since 1.0.0
 * @category models
 */
export interface ServeOptions extends Server.ServeOptions {
  /** permessage-deflate (Bun's shared compressor). Default off. */
  readonly perMessageDeflate?: boolean | undefined
}

/**
 * Listens on `host:port` with `Bun.serve` and serves each WebSocket connection with `handler`.
 * The server stops, and every connection closes with 1001, when the scope closes.
 *
 * @example
 * ```ts
 * import { BunServer } from "@bytechannel/bun"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* BunServer.serve(
 *     { port: 8080, path: "/echo", maxConnections: 1000 },
 *     (channel, info) =>
 *       Effect.log(`connection from ${info.remoteAddress}`).pipe(Effect.andThen(Stream.run(channel.read, channel.write)))
 *   )
 *   yield* Effect.log(`listening on ${server.url}`)
 *   return yield* Effect.never // until interrupted: then every connection closes with 1001
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 1.0.0
 * @category constructors
 */
export const serve: <E, R>(
  options: ServeOptions,
  handler: Server.Handler<E, R>
) => Effect.Effect<Server.RunningServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> = internal.serve

/**
 * {@link serve} as a layer.
 *
 * @example
 * ```ts
 * import { BunServer } from "@bytechannel/bun"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const EchoServer = BunServer.layer({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write))
 *
 * Effect.runFork(Layer.launch(EchoServer))
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layer: <E, R>(
  options: ServeOptions,
  handler: Server.Handler<E, R>
) => Layer.Layer<never, SocketError.SocketError, Exclude<R, Scope.Scope>> = internal.layer

/**
 * The portable `Server` service (`@bytechannel/core/Server`) on Bun: a program written against
 * `Server.serve` runs here with this layer, on Node with `NodeServer.layerServer`.
 *
 * @example
 * ```ts
 * import { Server } from "@bytechannel/core"
 * import { BunServer } from "@bytechannel/bun"
 * import { Effect, Stream } from "effect"
 *
 * const program = Server.serve({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write)).pipe(
 *   Effect.andThen(Effect.never),
 *   Effect.scoped,
 *   Effect.provide(BunServer.layerServer)
 * )
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layerServer: Layer.Layer<Server.Server> = internal.layerServer
