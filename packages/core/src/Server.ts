/**
 * The server service. A server program depends on `Server` only; each runtime's layer provides
 * it (`NodeServer.layerServer` on Node, `BunServer.layerServer` on Bun, `DenoServer.layerServer`
 * on Deno), so one program runs unchanged on each runtime: swap the layer, not the code.
 *
 * What every runtime's server keeps: each accepted connection is a `ByteChannel` served by the
 * handler in its own scope and fiber; the connection closes with 1000 when the handler
 * completes, 1011 when it fails, and 1001 when the server's scope closes. The options below mean
 * the same on each runtime; each runtime's own module adds what only it has.
 *
 * @since 1.0.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as ByteChannel from "./ByteChannel.js"
import type * as MessageSocket from "./MessageSocket.js"
import type { SocketError } from "./SocketError.js"

/**
 * What a handler learns about the connection it serves.
 *
 * @since 1.0.0
 * @category models
 */
export interface ConnectionInfo {
  /** The request path and query. */
  readonly url: string
  /** The upgrade request's headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly remoteAddress: string | undefined
  /** The subprotocol selected ("" when none). */
  readonly protocol: string
}

/**
 * Where and whom to serve, and each connection's socket options (`MessageSocket.SocketOptions`),
 * the same on every runtime.
 *
 * @since 1.0.0
 * @category models
 */
export interface ServeOptions extends MessageSocket.SocketOptions {
  /** Default "127.0.0.1". */
  readonly host?: string | undefined
  /** Default 0: the operating system picks a free port (see `port` on the result). */
  readonly port?: number | undefined
  /**
   * Only upgrades on exactly this path are accepted, whatever their query (`/chat?room=1` is
   * `/chat`); any other gets HTTP 404. Default: any path.
   */
  readonly path?: string | undefined
  /** Largest message accepted; a larger one closes with 1009. Default 16 MiB. */
  readonly maxPayload?: number | undefined
  /** Connections served at once; more are accepted and closed with 1013 (try again later). Default: no limit. */
  readonly maxConnections?: number | undefined
  /**
   * How long a client may take to complete its upgrade; a slower one is dropped. Default 10 seconds.
   * No effect on Bun, which bounds an incomplete request head itself (see `BunServer`).
   */
  readonly handshakeTimeout?: Duration.Input | undefined
  /** Allowed `Origin` headers; others get HTTP 403. Default: any origin. */
  readonly allowOrigins?: ReadonlyArray<string> | undefined
  /** Subprotocols the server speaks, in its order of preference; the first one the client offers is selected. */
  readonly protocols?: ReadonlyArray<string> | undefined
  /**
   * Pings each connection this often; a peer that does not answer within `pongTimeout` is dropped.
   * On Deno (no ping API) the two become Deno's `idleTimeout` (see `DenoServer`).
   */
  readonly pingInterval?: Duration.Input | undefined
  /** Default: `pingInterval`. */
  readonly pongTimeout?: Duration.Input | undefined
  /** Options of each connection's `ByteChannel`. */
  readonly channel?: ByteChannel.ByteChannelOptions | undefined
}

/**
 * A running server.
 *
 * @since 1.0.0
 * @category models
 */
export interface RunningServer {
  readonly host: string
  readonly port: number
  /** `ws://host:port` (with `path` when one was given). */
  readonly url: string
  /** Connections being served now. */
  readonly connections: () => number
}

/**
 * A connection's handler.
 *
 * @since 1.0.0
 * @category models
 */
export type Handler<E, R> = (channel: ByteChannel.ByteChannel, info: ConnectionInfo) => Effect.Effect<void, E, R>

/**
 * @since 1.0.0
 * @category tags
 */
export class Server extends Context.Service<Server, {
  /**
   * Listens and serves each WebSocket connection with `handler` until the scope closes (then
   * every connection closes with 1001). A busy port fails with `SocketError` reason `Open`.
   */
  readonly serve: <E, R>(
    options: ServeOptions,
    handler: Handler<E, R>
  ) => Effect.Effect<RunningServer, SocketError, Scope.Scope | Exclude<R, Scope.Scope>>
}>()("@bytechannel/core/Server") {}

/**
 * Serves with the `Server` in the context.
 *
 * @example
 * ```ts
 * import { Server } from "@bytechannel/core"
 * import { NodeServer } from "@bytechannel/node"
 * import { Effect, Stream } from "effect"
 *
 * // The same program on Bun (BunServer.layerServer) or Deno (DenoServer.layerServer).
 * const program = Effect.gen(function*() {
 *   const server = yield* Server.serve({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write))
 *   yield* Effect.log(`listening on ${server.url}`)
 *   return yield* Effect.never
 * }).pipe(Effect.scoped, Effect.provide(NodeServer.layerServer))
 * ```
 *
 * @since 1.0.0
 * @category accessors
 */
export const serve = <E, R>(
  options: ServeOptions,
  handler: Handler<E, R>
): Effect.Effect<RunningServer, SocketError, Server | Scope.Scope | Exclude<R, Scope.Scope>> =>
  Server.use((server) => server.serve(options, handler))
