/**
 * WebSocket (and TCP) servers whose every accepted connection is a `ByteChannel` handled in
 * its own scope and fiber: the connection closes with 1000 when the handler completes, 1011
 * when it fails, and 1001 when the server's scope closes.
 *
 * @since 0.1.0
 */
import type { ByteChannel } from "@bytechannel/core"
import type { MessageSocket, Server, SocketError } from "@bytechannel/core"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import type * as Https from "node:https"
import * as internal from "./internal/nodeServer.js"

/**
 * What a handler learns about the connection it serves.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionInfo {
  /** The request path and query. */
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly remoteAddress: string | undefined
  /** The subprotocol selected ("" when none). */
  readonly protocol: string
}

/**
 * Where and whom to serve, and each connection's socket options (`MessageSocket.SocketOptions`):
 * among them `sendStallTimeout`, which frees the slot of a client that reads nothing (its send
 * fails with `SendTimeout` and the connection closes with 1008), and `closeTimeout`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions extends MessageSocket.SocketOptions {
  /**
   * Only upgrades on exactly this path are accepted, whatever their query (`/chat?room=1` is
   * `/chat`); any other gets HTTP 404, and nothing is normalized first: `/chatroom`, `/chat/`,
   * `//x/chat` and `/x/../chat` are not `/chat`. Default: any path.
   */
  readonly path?: string | undefined
  /** Largest message accepted; a larger one closes with 1009. Default 16 MiB. */
  readonly maxPayload?: number | undefined
  /** Connections served at once; more are accepted and closed with 1013 (try again later). Default: no limit. */
  readonly maxConnections?: number | undefined
  /**
   * How long a client may take from its TCP connection (`serve`; the `upgrade` event with
   * `attach`) to a completed upgrade, `verifyClient` included; a slower one is dropped (HTTP
   * 408 when it is waiting on us). A deadline, not an idle timer. Default 10 seconds.
   */
  readonly handshakeTimeout?: Duration.Input | undefined
  /** Connections held before their upgrade completes; more are dropped at once. Default 1024. */
  readonly maxPendingHandshakes?: number | undefined
  /** Allowed `Origin` headers; others get HTTP 403. Default: any origin. */
  readonly allowOrigins?: ReadonlyArray<string> | undefined
  /** Decides whether to accept a handshake; `false` answers HTTP 401. */
  readonly verifyClient?: ((request: Http.IncomingMessage) => boolean | Promise<boolean>) | undefined
  /** Subprotocols the server speaks, in its order of preference; the first one the client offers is selected. */
  readonly protocols?: ReadonlyArray<string> | undefined
  /** permessage-deflate. Default off. */
  readonly perMessageDeflate?: boolean | undefined
  /** Pings each connection this often; a peer that does not answer within `pongTimeout` is dropped. */
  readonly pingInterval?: Duration.Input | undefined
  /** Default: `pingInterval`. */
  readonly pongTimeout?: Duration.Input | undefined
  /** Options of each connection's `ByteChannel`. */
  readonly channel?: ByteChannel.ByteChannelOptions | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends ServerOptions {
  /** Default "127.0.0.1". */
  readonly host?: string | undefined
  /** Default 0: the operating system picks a free port (see `port` on the result). */
  readonly port?: number | undefined
  /**
   * How many connections may wait to be accepted (a burst of clients while the server is
   * busy). Default 2048 (Node's is 511); the kernel caps it at `net.core.somaxconn`.
   */
  readonly backlog?: number | undefined
  /** Answers plain HTTP requests (a page, a health check). Default: 426 Upgrade Required. */
  readonly onRequest?: ((request: Http.IncomingMessage, response: Http.ServerResponse) => void) | undefined
}

/**
 * A running server.
 *
 * @since 0.1.0
 * @category models
 */
export interface NodeServer {
  readonly host: string
  readonly port: number
  /** `ws://host:port` (with `path` when one was given). */
  readonly url: string
  /** Connections being served now (each until its TCP connection is gone, as ws counts its clients). */
  readonly connections: () => number
}

/**
 * Listens on `host:port` and serves each WebSocket connection with `handler`. The server
 * stops, and every connection closes with 1001, when the scope closes. A busy port fails with
 * `SocketError` reason `Open`.
 *
 * @example
 * ```ts
 * import { NodeServer } from "@bytechannel/node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* NodeServer.serve(
 *     { host: "0.0.0.0", port: 8080, path: "/echo", maxConnections: 1000 },
 *     (channel, info) =>
 *       Effect.log(`connection from ${info.remoteAddress}`).pipe(Effect.andThen(Stream.run(channel.read, channel.write)))
 *   )
 *   yield* Effect.log(`listening on ${server.url}`)
 *   return yield* Effect.never // until interrupted: then every connection closes with 1001
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve: <E, R>(
  options: ServeOptions,
  handler: (channel: ByteChannel.ByteChannel, info: ConnectionInfo) => Effect.Effect<void, E, R>
) => Effect.Effect<NodeServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> = internal.serve

/**
 * {@link serve} as a layer.
 *
 * @example
 * ```ts
 * import { NodeServer } from "@bytechannel/node"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const EchoServer = NodeServer.layer({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write))
 *
 * Effect.runFork(Layer.launch(EchoServer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <E, R>(
  options: ServeOptions,
  handler: (channel: ByteChannel.ByteChannel, info: ConnectionInfo) => Effect.Effect<void, E, R>
) => Layer.Layer<never, SocketError.SocketError, Exclude<R, Scope.Scope>> = internal.layer

/**
 * The portable `Server` service (`@bytechannel/core/Server`) on Node: a program written against
 * `Server.serve` runs here with this layer, on Bun with `BunServer.layerServer` and on Deno with
 * `DenoServer.layerServer`. What only Node has (`verifyClient`, `onRequest`, `backlog`, `attach`)
 * stays in this module.
 *
 * @example
 * ```ts
 * import { Server } from "@bytechannel/core"
 * import { NodeServer } from "@bytechannel/node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Server.serve({ port: 8080, path: "/echo" }, (channel) => Stream.run(channel.read, channel.write)).pipe(
 *   Effect.andThen(Effect.never),
 *   Effect.scoped,
 *   Effect.provide(NodeServer.layerServer)
 * )
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layerServer: Layer.Layer<Server.Server> = internal.layerServer

/**
 * Serves WebSocket upgrades of an existing `node:http` or `node:https` server (on `path`,
 * when given). The upgrade listener is removed, and connections close with 1001, when the
 * scope closes; the server itself is left to its owner.
 *
 * @example
 * ```ts
 * import { NodeServer } from "@bytechannel/node"
 * import { Effect, Stream } from "effect"
 * import { createServer } from "node:http"
 *
 * // WebSockets on /ws of a server that also answers plain HTTP.
 * const program = Effect.gen(function*() {
 *   const http = createServer((_request, response) => response.end("ok"))
 *   yield* NodeServer.attach(http, { path: "/ws" }, (channel) => Stream.run(channel.read, channel.write))
 *   yield* Effect.callback<void>((resume) => void http.listen(8080, () => resume(Effect.void)))
 *   yield* Effect.addFinalizer(() => Effect.sync(() => http.close()))
 *   return yield* Effect.never
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const attach: <E, R>(
  server: Http.Server | Https.Server,
  options: ServerOptions,
  handler: (channel: ByteChannel.ByteChannel, info: ConnectionInfo) => Effect.Effect<void, E, R>
) => Effect.Effect<{ readonly connections: () => number }, never, Scope.Scope | Exclude<R, Scope.Scope>> = internal.attach

/**
 * Options of {@link serveTcp}: where to listen, and the sockets' and channels' options.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeTcpOptions extends MessageSocket.SocketOptions {
  /** Default "127.0.0.1". */
  readonly host?: string | undefined
  /** Default 0: the operating system picks a free port. */
  readonly port?: number | undefined
  /** As `ServeOptions.backlog`. */
  readonly backlog?: number | undefined
  readonly channel?: ByteChannel.ByteChannelOptions | undefined
}

/**
 * A raw TCP server: each chunk read is a message, so the same codecs run over TCP.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import { NodeServer } from "@bytechannel/node"
 * import { Stream } from "effect"
 *
 * // The same codecs over raw TCP: each line answered in upper case.
 * const server = NodeServer.serveTcp({ port: 7000 }, (channel) => {
 *   const lines = ByteChannel.framed(channel, Codec.lines())
 *   return lines.messages.pipe(Stream.map((line) => line.toUpperCase()), Stream.run(lines.sink))
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const serveTcp: <E, R>(
  options: ServeTcpOptions,
  handler: (channel: ByteChannel.ByteChannel, info: { readonly remoteAddress: string | undefined }) => Effect.Effect<void, E, R>
) => Effect.Effect<NodeServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> = internal.serveTcp
