/**
 * A WebSocket server on Deno (`Deno.serve` and `Deno.upgradeWebSocket`) whose every accepted
 * connection is a `ByteChannel` handled in its own scope and fiber: the connection closes with
 * 1000 when the handler completes, 1011 when it fails, and 1001 when the server's scope closes.
 * The options are core's `Server.ServeOptions`, with the same meaning as on Node and Bun.
 *
 * What Deno's standard `WebSocket` cannot do, and what is done instead:
 * - it cannot pause its read: unread messages are bounded (`receiveHighWaterMessages`, default
 *   1024, `receiveHighWaterBytes`, default 8 MiB) and past them the connection closes with 1009
 *   (`ReceiveOverflow`), as the browser's WebSocket strategy does;
 * - it has no drain event: `send` waits while `bufferedAmount` is at the high-water mark, polled;
 * - it has no `maxPayload`: a larger message closes with 1009 once Deno has read it whole (Deno
 *   itself drops a connection at 64 MiB, the largest `maxPayload` honoured);
 * - it has no ping API: `pingInterval` / `pongTimeout` become Deno's `idleTimeout` (Deno pings
 *   after half of it without a frame from the peer, and drops the peer after the other half);
 * - the handshake deadline runs from the upgrade request (Deno reads the request head itself,
 *   with no deadline of its own: a client may hold a connection with a partial head);
 * - once our close frame is sent, the peer's next data frame makes Deno drop the connection: a
 *   peer still sending when we close (any code) may lose our close frame and see 1006.
 *
 * @since 1.0.0
 */
import type { Server, SocketError } from "@bytechannel/core"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/denoServer.js"

/**
 * Where and whom to serve, and each connection's options: core's `Server.ServeOptions`.
 *
 * @since 1.0.0
 * @category models
 */
export interface ServeOptions extends Server.ServeOptions {}

/**
 * A running server: its address, its URL and its count of connections.
 *
 * @since 1.0.0
 * @category models
 */
export interface RunningServer extends Server.RunningServer {}

/**
 * Listens and serves each WebSocket connection with `handler` until the scope closes (then every
 * connection closes with 1001). A busy port fails with `SocketError` reason `Open`.
 *
 * @example
 * ```ts
 * import { DenoServer } from "@bytechannel/deno"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* DenoServer.serve(
 *     { host: "0.0.0.0", port: 8080, path: "/echo", maxConnections: 1000 },
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
) => Effect.Effect<RunningServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> = internal.serve

/**
 * {@link serve} as a layer.
 *
 * @example
 * ```ts
 * import { DenoServer } from "@bytechannel/deno"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const EchoServer = DenoServer.layer({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write))
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
 * The portable `Server` service (`@bytechannel/core/Server`) on Deno: a program written against
 * `Server.serve` runs here with this layer, on Node with `NodeServer.layerServer` and on Bun with
 * `BunServer.layerServer`.
 *
 * @example
 * ```ts
 * import { Server } from "@bytechannel/core"
 * import { DenoServer } from "@bytechannel/deno"
 * import { Effect, Stream } from "effect"
 *
 * const program = Server.serve({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write)).pipe(
 *   Effect.andThen(Effect.never),
 *   Effect.scoped,
 *   Effect.provide(DenoServer.layerServer)
 * )
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layerServer: Layer.Layer<Server.Server> = internal.layerServer
