/**
 * A `Connector` served in memory: every `connect` creates a `MemorySocket` pair and runs a
 * handler on the server side, in its own scope. The swap-a-layer way to test a program that
 * depends on `Connector`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as ByteChannel from "./ByteChannel.js"
import type * as Connector from "./Connector.js"
import * as internal from "./internal/testConnector.js"
import type * as MemorySocket from "./MemorySocket.js"
import type * as SocketError from "./SocketError.js"

/**
 * What the server-side handler learns about a connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectRequest {
  readonly url: URL
  readonly protocols: ReadonlyArray<string>
  /** The server side's raw socket (for fault injection: `drop`, `ignoreCloseFrames`). */
  readonly socket: MemorySocket.MemorySocket
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TestConnectorOptions {
  /** Options of every memory pair. */
  readonly pair?: MemorySocket.PairOptions | undefined
  /** Options of the server side's `ByteChannel`. */
  readonly channel?: ByteChannel.ByteChannelOptions | undefined
  /**
   * Decides each handshake before the pair exists: fail with a `SocketError` (for example
   * reason `Open` with `status: 401`) to refuse it, as a server answering HTTP would.
   */
  readonly accept?: ((request: { readonly url: URL; readonly protocols: ReadonlyArray<string> }) => Effect.Effect<void, SocketError.SocketError>) | undefined
}

/**
 * A `Connector` layer whose every `connect` runs `handler` with the server side of a fresh
 * memory pair. The server side is closed with 1000 when the handler completes, with 1011 when
 * it fails, and with 1001 when the layer is released.
 *
 * @example
 * ```ts
 * import { ByteChannel, TestConnector } from "@bytechannel/core"
 * import { Effect, Stream } from "effect"
 *
 * // The handler is the server side of every connect, in memory.
 * const EchoServer = TestConnector.layer((channel) => Stream.run(channel.read, channel.write))
 *
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://test/echo")
 *   yield* channel.send(new Uint8Array([1, 2, 3]))
 *   return yield* channel.readChunk()
 * }).pipe(Effect.scoped, Effect.provide(EchoServer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <E, R>(
  handler: (channel: ByteChannel.ByteChannel, request: ConnectRequest) => Effect.Effect<void, E, R>
) => Layer.Layer<Connector.Connector, never, Exclude<R, Scope.Scope>> = (handler) => internal.layerWith(handler)

/**
 * {@link layer} with options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith: <E, R>(
  handler: (channel: ByteChannel.ByteChannel, request: ConnectRequest) => Effect.Effect<void, E, R>,
  options?: TestConnectorOptions
) => Layer.Layer<Connector.Connector, never, Exclude<R, Scope.Scope>> = internal.layerWith
