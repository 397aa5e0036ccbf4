import { Connector, SocketError } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as BrowserConnector from "../BrowserConnector.js"
import { connectStream, connectWebSocket, hasWebSocketStream } from "./browserSocket.js"

export { hasWebSocketStream }

/** @internal */
export const make = (options?: BrowserConnector.BrowserConnectorOptions) =>
  Connector.make((url, connectOptions) =>
    Effect.gen(function*() {
      const parsed = yield* Effect.try({
        try: () => new URL(url, globalThis.location?.href),
        catch: (cause) => new SocketError.SocketError({ reason: "Open", cause, detail: `invalid URL ${String(url)}` })
      })
      if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
        return yield* new SocketError.SocketError({ reason: "Open", detail: `unsupported URL scheme ${parsed.protocol}` })
      }
      const merged = { ...options, ...connectOptions }
      const strategy = options?.strategy ?? "auto"
      const useStream = strategy === "websocketstream" || (strategy === "auto" && hasWebSocketStream())
      return yield* (useStream ? connectStream(parsed, merged) : connectWebSocket(parsed, merged))
    }).pipe(Effect.withSpan("bytechannel.connect", { attributes: { "url.full": String(url) } }))
  )

/** @internal */
export const layerWith = (options: BrowserConnector.BrowserConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
