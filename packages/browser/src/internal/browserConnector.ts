import { Connector } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as BrowserConnector from "../BrowserConnector.js"
import { connectStream, connectWebSocket, hasWebSocketStream } from "./browserSocket.js"

export { hasWebSocketStream }

/** The schemes `connect` accepts (and `http:`/`https:`, taken as `ws:`/`wss:`, as WHATWG `WebSocket` does). */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:"]

/** A connect URL, relative to the page as `WebSocket` resolves it. @internal */
export const parseUrl = (url: string | URL) => Connector.parseUrl(url, { schemes: SCHEMES, base: globalThis.location?.href })

/** @internal */
export const make = (options?: BrowserConnector.BrowserConnectorOptions) =>
  Connector.make((url, connectOptions) =>
    Effect.gen(function*() {
      const parsed = yield* parseUrl(url)
      const merged = { ...options, ...connectOptions }
      const strategy = options?.strategy ?? "auto"
      const useStream = strategy === "websocketstream" || (strategy === "auto" && hasWebSocketStream())
      return yield* (useStream ? connectStream(parsed, merged) : connectWebSocket(parsed, merged)).pipe(
        Effect.mapError(Connector.withUrl(parsed))
      )
    }).pipe(Effect.withSpan("bytechannel.connect", { attributes: { "url.full": String(url) } }))
  )

/** @internal */
export const layerWith = (options: BrowserConnector.BrowserConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
