import { Connector } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as NodeConnector from "../NodeConnector.js"
import * as tcp from "./tcpTransport.js"
import * as ws from "./wsTransport.js"

/** The schemes `connect` accepts (and `http:`/`https:`, taken as `ws:`/`wss:`). */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:", "tcp:"]

/** @internal */
export const parseUrl = (url: string | URL) => Connector.parseUrl(url, { schemes: SCHEMES })

/** @internal */
export const make = (options?: NodeConnector.NodeConnectorOptions): Connector.Connector["Service"] =>
  Connector.make((url, connectOptions) =>
    Effect.flatMap(parseUrl(url), (parsed) => {
      const merged = { ...options, ...connectOptions }
      // The connection's whole life is one span, ended when its scope closes.
      return Effect.andThen(
        Effect.makeSpanScoped("bytechannel.connection", {
          kind: "client",
          attributes: { "url.full": parsed.href, "network.transport": parsed.protocol === "tcp:" ? "tcp" : "websocket" }
        }),
        (parsed.protocol === "tcp:" ? tcp.connect(parsed, merged) : ws.connect(parsed, merged)).pipe(
          Effect.mapError(Connector.withUrl(parsed))
        )
      )
    })
  )

/** @internal */
export const layerWith = (options: NodeConnector.NodeConnectorOptions): Layer.Layer<Connector.Connector> =>
  Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer: Layer.Layer<Connector.Connector> = layerWith({})
