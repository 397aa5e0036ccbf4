/**
 * The `Connector` for browsers. `"websocketstream"` reads by pulling (real receive
 * backpressure) and writes through its writer (real send backpressure); `"websocket"` is core's
 * `WebSocketConnector` over the plain `WebSocket`, which cannot pause, so it buffers up to a
 * bound and then closes with `ReceiveOverflow` (code 1009 locally) rather than growing. `"auto"`
 * (the default) picks WebSocketStream when the browser has it.
 *
 * @since 0.1.0
 */
import type { Connector, WebSocketConnector } from "@bytechannel/core"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/browserConnector.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Strategy = "auto" | "websocketstream" | "websocket"

/**
 * The options of core's `WebSocketConnector` (open timeout, the `"websocket"` strategy's receive
 * limits, the heartbeat), and the strategy. A browser may send only 1000 and 3000–4999: leave
 * `closeCodes` at its default, `"in-reason"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrowserConnectorOptions extends WebSocketConnector.WebSocketConnectorOptions {
  /** Default `"auto"`. */
  readonly strategy?: Strategy | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: BrowserConnectorOptions) => Connector.Connector["Service"] = internal.make

/**
 * The browser `Connector` with every default (`"auto"` strategy).
 *
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { BrowserConnector } from "@bytechannel/browser"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const channel = yield* ByteChannel.connect("wss://example.com/echo")
 *   yield* channel.send(new TextEncoder().encode("ping"))
 *   return yield* channel.readChunk() // Option.some(Uint8Array [...])
 * }).pipe(Effect.scoped, Effect.provide(BrowserConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Connector.Connector> = internal.layer

/**
 * @example
 * ```ts
 * import { ByteChannel, Codec } from "@bytechannel/core"
 * import { BrowserConnector } from "@bytechannel/browser"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   // Relative to the page: on https://example.com this is wss://example.com/chat.
 *   const channel = yield* ByteChannel.connect("/chat")
 *   const lines = ByteChannel.framed(channel, Codec.lines())
 *   yield* lines.send("hello")
 *   yield* lines.messages.pipe(Stream.runForEach((line) => Effect.log(line)))
 * }).pipe(
 *   Effect.scoped,
 *   Effect.provide(BrowserConnector.layerWith({ strategy: "auto", openTimeout: "5 seconds", heartbeat: { interval: "15 seconds" } }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith: (options: BrowserConnectorOptions) => Layer.Layer<Connector.Connector> = internal.layerWith

/**
 * Whether this browser has `WebSocketStream` (what `"auto"` decides on).
 *
 * @since 0.1.0
 * @category utils
 */
export const hasWebSocketStream: () => boolean = internal.hasWebSocketStream
