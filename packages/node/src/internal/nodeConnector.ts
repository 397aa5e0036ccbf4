import { Connector, SocketError } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as NodeConnector from "../NodeConnector.js"
import * as tcp from "./tcpTransport.js"
import * as ws from "./wsTransport.js"

/** The schemes `connect` accepts: `http:`/`https:` become `ws:`/`wss:`, as in `ws` and WHATWG `WebSocket`. */
const SCHEMES: ReadonlyArray<string> = ["ws:", "wss:", "http:", "https:", "tcp:"]

const openError = (detail: string, cause?: unknown) => new SocketError.SocketError({ reason: "Open", detail, cause })

/**
 * Parses a connect URL; the browser connector words its errors the same way.
 *
 * @internal
 */
export const parseUrl = (url: string | URL): Effect.Effect<URL, SocketError.SocketError> =>
  Effect.suspend(() => {
    const text = String(url)
    const supported = `supported schemes: ${SCHEMES.join(", ")}`
    if (text.trim() === "") return Effect.fail(openError(`empty URL (${supported})`))
    let parsed: URL
    try {
      parsed = new URL(text)
    } catch (cause) {
      return Effect.fail(openError(`invalid URL ${JSON.stringify(text)} (${supported})`, cause))
    }
    if (parsed.protocol === "http:" || parsed.protocol === "https:") parsed.protocol = parsed.protocol === "http:" ? "ws:" : "wss:"
    if (!SCHEMES.includes(parsed.protocol)) {
      // `localhost:80` parses as the scheme `localhost:`.
      const hint = /^[\w.-]+:\d+(\/|$)/.test(text) ? `; did you mean "ws://${text}"?` : ""
      return Effect.fail(openError(`unsupported URL scheme "${parsed.protocol}" in ${JSON.stringify(text)} (${supported})${hint}`))
    }
    return Effect.succeed(parsed)
  })

// A connection that cannot be opened names its URL.
const withUrl = (url: URL) => (error: SocketError.SocketError) =>
  (error.reason === "Open" || error.reason === "OpenTimeout") && error.url === undefined
    ? new SocketError.SocketError({
      reason: error.reason,
      url: url.href,
      code: error.code,
      closeReason: error.closeReason,
      status: error.status,
      detail: error.detail,
      cause: error.cause
    })
    : error

/** @internal */
export const make = (options?: NodeConnector.NodeConnectorOptions) =>
  Connector.make((url, connectOptions) =>
    Effect.gen(function*() {
      const parsed = yield* parseUrl(url)
      const merged = { ...options, ...connectOptions }
      // The connection's whole life is one span, ended when its scope closes.
      yield* Effect.makeSpanScoped("bytechannel.connection", {
        kind: "client",
        captureStackTrace: false,
        attributes: { "url.full": parsed.href, "network.transport": parsed.protocol === "tcp:" ? "tcp" : "websocket" }
      })
      return yield* (parsed.protocol === "tcp:" ? tcp.connect(parsed, merged) : ws.connect(parsed, merged)).pipe(
        Effect.mapError(withUrl(parsed))
      )
    })
  )

/** @internal */
export const layerWith = (options: NodeConnector.NodeConnectorOptions) => Layer.succeed(Connector.Connector, make(options))

/** @internal */
export const layer = layerWith({})
