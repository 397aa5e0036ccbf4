import { Connector } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import type * as NodeConnector from "../NodeConnector.js"
import * as tcp from "./tcpTransport.js"
import * as ws from "./wsTransport.js"

/** The schemes `connect` accepts (and `http:`/`https:`, taken as `ws:`/`wss:`). */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:", "tcp:"]

/** @internal */
export const parseUrl = (url: string | URL) => Connector.parseUrl(url, { schemes: SCHEMES })

/**
 * The connection's whole life as one span, ended when its scope closes; only when a tracer that
 * can see it is installed (Effect's own `nativeTracer` exports nothing: a span per connection
 * there would be pure cost).
 */
const connectionSpan = (url: URL): Effect.Effect<void, never, Scope.Scope> =>
  Effect.withFiber((fiber) =>
    fiber.getRef(Tracer.Tracer) === Tracer.nativeTracer || !fiber.getRef(References.TracerEnabled)
      ? Effect.void
      : Effect.asVoid(Effect.makeSpanScoped("bytechannel.connection", {
        kind: "client",
        attributes: { "url.full": url.href, "network.transport": url.protocol === "tcp:" ? "tcp" : "websocket" }
      }))
  )

/** @internal */
export const make = (options?: NodeConnector.NodeConnectorOptions): Connector.Connector["Service"] =>
  Connector.make((url, connectOptions) =>
    Effect.flatMap(parseUrl(url), (parsed) => {
      const merged = connectOptions === undefined ? options ?? {} : { ...options, ...connectOptions }
      return Effect.andThen(
        connectionSpan(parsed),
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
