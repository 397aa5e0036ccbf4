import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Connector from "../Connector.js"
import { SocketError } from "../SocketError.js"
import type * as WebSocketConnector from "../WebSocketConnector.js"
import { fromWebSocket } from "./webSocketTransport.js"

/** The schemes `connect` accepts (and `http:`/`https:`, taken as `ws:`/`wss:`, as WHATWG `WebSocket` does). */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:"]

/** A connect URL, relative to the page (or Deno's `--location`) as `WebSocket` resolves it. @internal */
export const parseUrl = (url: string | URL) =>
  Connector.parseUrl(url, { schemes: SCHEMES, base: (globalThis as { location?: { href?: string } }).location?.href })

const openError = (detail: string, cause?: unknown) => new SocketError({ reason: "Open", detail, cause })

/** @internal */
export const connect = (
  url: URL,
  options: WebSocketConnector.WebSocketConnectorOptions & Connector.ConnectOptions
) =>
  Effect.suspend(() => {
    if (typeof WebSocket === "undefined") return Effect.fail(openError("this runtime has no global WebSocket (Node needs 22 or later)"))
    let ws: WebSocket
    try {
      ws = new WebSocket(url.href, Connector.protocolList(options.protocols))
    } catch (cause) {
      // What the constructor refuses synchronously (a bad subprotocol name).
      return Effect.fail(openError(cause instanceof Error ? cause.message : String(cause), cause))
    }
    return fromWebSocket(ws, options)
  })

/** @internal */
export const make = (options?: WebSocketConnector.WebSocketConnectorOptions) =>
  Connector.make((url, connectOptions) =>
    Effect.flatMap(parseUrl(url), (parsed) =>
      Effect.mapError(connect(parsed, { ...options, ...connectOptions }), Connector.withUrl(parsed))).pipe(
        Effect.withSpan("bytechannel.connect", { attributes: { "url.full": String(url) } })
      )
  )

/** @internal */
export const layerWith = (options: WebSocketConnector.WebSocketConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
