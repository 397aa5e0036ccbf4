/**
 * `NodeServer` as an `effect/socket` `SocketServer`, for code written against `effect/socket`
 * (`effect/rpc`'s `RpcServer.layerProtocolSocketServer`, your own `server.run(handler)`): each
 * accepted connection is served by bytechannel — its receive bounds, send backpressure, close
 * handshake and deadlines, the `NodeServer` options (path, origins, `maxConnections`,
 * keepalive...) — and handed to the `run` handler as a `Socket` (`EffectSocket.toSocket` over
 * the connection's `ByteChannel`).
 *
 * A connection lives as long as its handler: it closes with 1000 when the handler completes,
 * 1011 when it fails, and 1001 when the `run` is interrupted or the server's scope closes.
 * Connections accepted while no `run` is active wait for one. Each handler runs in a scope of
 * its own.
 *
 * @since 1.0.0
 */
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as SocketServer from "effect/socket/SocketServer"
import * as internal from "./internal/nodeSocketServer.js"
import type * as NodeServer from "./NodeServer.js"

/**
 * A WebSocket server (`NodeServer.serve` with `options`) as a `SocketServer`, stopped when the
 * scope closes. Its `address` is where it listens (port 0 picks a free one). A busy port fails
 * with `SocketServerError` (`SocketServerOpenError`, bytechannel's `SocketError` as cause).
 *
 * @example
 * ```ts
 * import { NodeSocketServer } from "@bytechannel/node"
 * import { Effect } from "effect"
 * import * as Socket from "effect/socket/Socket"
 *
 * // An echo server written against effect/socket, served by bytechannel.
 * const program = Effect.gen(function*() {
 *   const server = yield* NodeSocketServer.make({ port: 8080, path: "/echo" })
 *   return yield* server.run((socket) =>
 *     Effect.gen(function*() {
 *       const { pull } = yield* socket.reader
 *       const { writeAll } = yield* socket.writer
 *       while (true) yield* writeAll(yield* pull) // pull fails with SocketCloseError at the end
 *     })
 *   )
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 1.0.0
 * @category constructors
 */
export const make: (
  options: NodeServer.ServeOptions
) => Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Scope.Scope> = internal.make

/**
 * {@link make} as a layer of `SocketServer`.
 *
 * @example
 * ```ts
 * import { NodeSocketServer } from "@bytechannel/node"
 * import { Layer } from "effect"
 * import { RpcSerialization, RpcServer } from "effect/rpc"
 *
 * // effect/rpc's server protocol on bytechannel's WebSocket server.
 * export const ProtocolLive = RpcServer.layerProtocolSocketServer.pipe(
 *   Layer.provide([NodeSocketServer.layer({ port: 8080, path: "/rpc", maxConnections: 1000 }), RpcSerialization.layerNdjson])
 * )
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layer: (
  options: NodeServer.ServeOptions
) => Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> = internal.layer

/**
 * A raw TCP server (`NodeServer.serveTcp` with `options`) as a `SocketServer`: each connection is
 * a byte stream, so pair it with a framing serialization (`RpcSerialization.layerNdjson`,
 * `layerMsgPack`).
 *
 * @since 1.0.0
 * @category constructors
 */
export const makeTcp: (
  options: NodeServer.ServeTcpOptions
) => Effect.Effect<SocketServer.SocketServer["Service"], SocketServer.SocketServerError, Scope.Scope> = internal.makeTcp

/**
 * {@link makeTcp} as a layer of `SocketServer`.
 *
 * @since 1.0.0
 * @category layers
 */
export const layerTcp: (
  options: NodeServer.ServeTcpOptions
) => Layer.Layer<SocketServer.SocketServer, SocketServer.SocketServerError> = internal.layerTcp
