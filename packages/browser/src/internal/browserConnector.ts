import { Connector, WebSocketConnector } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as BrowserConnector from "../BrowserConnector.js"
import { connectStream, hasWebSocketStream } from "./webSocketStream.js"

export { hasWebSocketStream }

/** The schemes `connect` accepts (and `http:`/`https:`, taken as `ws:`/`wss:`, as WHATWG `WebSocket` does). */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:"]

/** A connect URL, relative to the page as `WebSocketStream` resolves it. @internal */
export const parseUrl = (url: string | URL) => Connector.parseUrl(url, { schemes: SCHEMES, base: globalThis.location?.href })

/** @internal */
export const make = (options?: BrowserConnector.BrowserConnectorOptions): Connector.Connector["Service"] => {
  // The "websocket" strategy is core's WebSocketConnector: the plain WHATWG WebSocket, bounded.
  const webSocket = WebSocketConnector.make(options)
  const strategy = options?.strategy ?? "auto"
  return Connector.make((url, connectOptions) =>
    strategy === "websocketstream" || (strategy === "auto" && hasWebSocketStream())
      ? Effect.flatMap(parseUrl(url), (parsed) =>
        Effect.mapError(connectStream(parsed, { ...options, ...connectOptions }), Connector.withUrl(parsed))).pipe(
          Effect.withSpan("bytechannel.connect", { attributes: { "url.full": String(url) } })
        )
      : webSocket.connect(url, connectOptions)
  )
}

/** @internal */
export const layerWith = (options: BrowserConnector.BrowserConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
