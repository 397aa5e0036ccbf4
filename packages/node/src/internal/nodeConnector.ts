import { Connector, SocketError } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as NodeConnector from "../NodeConnector.js"
import * as tcp from "./tcpTransport.js"
import * as ws from "./wsTransport.js"

/** @internal */
export const make = (options?: NodeConnector.NodeConnectorOptions) =>
  Connector.make((url, connectOptions) =>
    Effect.gen(function*() {
      const parsed = yield* Effect.try({
        try: () => new URL(url),
        catch: (cause) => new SocketError.SocketError({ reason: "Open", cause, detail: `invalid URL ${String(url)}` })
      })
      const merged = { ...options, ...connectOptions }
      // The connection's whole life is one span, ended when its scope closes.
      yield* Effect.makeSpanScoped("bytechannel.connection", {
        kind: "client",
        attributes: { "url.full": parsed.href, "network.transport": parsed.protocol === "tcp:" ? "tcp" : "websocket" }
      })
      switch (parsed.protocol) {
        case "ws:":
        case "wss:":
          return yield* ws.connect(parsed, merged)
        case "tcp:":
          return yield* tcp.connect(parsed, merged)
        default:
          return yield* new SocketError.SocketError({ reason: "Open", detail: `unsupported URL scheme ${parsed.protocol}` })
      }
    })
  )

/** @internal */
export const layerWith = (options: NodeConnector.NodeConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
