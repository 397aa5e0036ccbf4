/**
 * An adapter from `@effect/platform`'s `Socket` (for example the one `HttpServerRequest.upgrade`
 * gives a route) to a `MessageSocket`, so a ByteChannel and its codecs run on it.
 *
 * Caveat, inherited from the platform socket: it has **no backpressure**. Its writer queues
 * without bound and its reader cannot be paused, so this adapter bounds receiving with the
 * `"fail"` policy (close 1009 and `ReceiveOverflow` past the bound) and counts queued writes as
 * the send buffer. Prefer the Node or browser connectors where you choose the transport.
 *
 * Imported by its own path, and only with `@effect/platform` installed:
 * `import * as PlatformSocket from "@bytechannel/core/PlatformSocket"`.
 *
 * @module @bytechannel/core/PlatformSocket
 * @since 0.1.0
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Socket from "@effect/platform/Socket"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as ByteChannel from "./ByteChannel.js"
import * as internal from "./internal/platformSocket.js"
import type { MessageSocket, SocketOptions } from "./MessageSocket.js"

/**
 * Wraps a platform socket; the socket runs until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket: (socket: Socket.Socket, options?: SocketOptions) => Effect.Effect<MessageSocket, never, Scope.Scope> =
  internal.fromSocket

/**
 * An HTTP handler (for `HttpRouter` or `HttpServer.serve`) that upgrades the request to a
 * WebSocket and serves it with `handler` as a ByteChannel, closing with 1000 when the handler
 * completes and 1011 when it fails.
 *
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import * as PlatformSocket from "@bytechannel/core/PlatformSocket"
 * import * as HttpRouter from "@effect/platform/HttpRouter"
 * import { Stream } from "effect"
 *
 * // A route of an @effect/platform HTTP server that answers each line in upper case.
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.get(
 *     "/lines",
 *     PlatformSocket.upgrade((channel) => {
 *       const lines = ByteChannel.framed(channel, Codec.lines())
 *       return lines.messages.pipe(Stream.map((line) => line.toUpperCase()), Stream.run(lines.sink))
 *     })
 *   )
 * )
 * ```
 *
 * @since 0.1.0
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
