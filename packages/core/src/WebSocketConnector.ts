/**
 * The `Connector` for any runtime with a WHATWG `WebSocket`: Bun, Deno, Node 22 or later (its
 * global `WebSocket`) and browsers (`@bytechannel/browser` uses it for its `"websocket"`
 * strategy). Such a socket cannot pause reading, so the receive queue is bounded instead: past
 * `receiveLimitMessages` or `receiveLimitBytes` unread, `receive` fails with `ReceiveOverflow`
 * and the connection closes with 1009. `send` waits while `bufferedAmount` is at or above
 * `sendHighWaterMark` (polled: there is no drain event). See `WebSocketTransport`.
 *
 * @since 1.0.0
 */
import type * as Layer from "effect/Layer"
import type * as Connector from "./Connector.js"
import * as internal from "./internal/webSocketConnector.js"
import type * as WebSocketTransport from "./WebSocketTransport.js"

/**
 * @since 1.0.0
 * @category models
 */
export interface WebSocketConnectorOptions extends Omit<WebSocketTransport.WebSocketTransportOptions, "terminate"> {}

/**
 * @since 1.0.0
 * @category constructors
 */
export const make: (options?: WebSocketConnectorOptions) => Connector.Connector["Service"] = internal.make

/**
 * The WHATWG `WebSocket` `Connector` with every default: a program written against `Connector`
 * runs on Bun, Deno or Node 22 with this layer.
 *
 * @example
 * ```ts
 * import { ByteChannel, WebSocketConnector } from "@bytechannel/core"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/echo")
 *   yield* channel.send(new TextEncoder().encode("ping"))
 *   return yield* channel.readChunk() // Option.some(Uint8Array [...])
 * }).pipe(Effect.scoped, Effect.provide(WebSocketConnector.layer))
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layer: Layer.Layer<Connector.Connector> = internal.layer

/**
 * @example
 * ```ts
 * import { ByteChannel, Codec, WebSocketConnector } from "@bytechannel/core"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("ws://127.0.0.1:8080/chat")
 *   const lines = ByteChannel.framed(channel, Codec.lines())
 *   yield* lines.send("hello")
 *   yield* lines.messages.pipe(Stream.runForEach((line) => Effect.log(line)))
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(WebSocketConnector.layerWith({
 *     openTimeout: "5 seconds",
 *     // Unread data past these closes the connection with 1009: this socket cannot pause.
 *     receiveLimitBytes: 16 * 1024 * 1024,
 *     heartbeat: { interval: "15 seconds" }
 *   }))
 * )
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layerWith: (options: WebSocketConnectorOptions) => Layer.Layer<Connector.Connector> = internal.layerWith
