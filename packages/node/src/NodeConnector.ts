/**
 * The `Connector` for Node: `ws://` and `wss://` with the `ws` package, `tcp://host:port` with
 * `node:net` (each TCP chunk is a message, so the same ByteChannel and codecs run over raw TCP).
 *
 * Backpressure is real in both directions: a full receive queue pauses the socket (the sender
 * sees its buffer grow), and `send` waits while `bufferedAmount` is above the high-water mark.
 *
 * @since 0.1.0
 */
import { Connector } from "@bytechannel/core"
import type { MessageSocket } from "@bytechannel/core"
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import type * as Tls from "node:tls"
import * as internal from "./internal/nodeConnector.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface NodeConnectorOptions extends MessageSocket.SocketOptions {
  /** How long the opening handshake may take. Default 10 seconds. */
  readonly openTimeout?: Duration.Input | undefined
  /** Largest message accepted; a larger one closes with 1009 and fails `read`. Default 16 MiB. */
  readonly maxPayload?: number | undefined
  /** permessage-deflate. Default off (it costs CPU and memory per connection). */
  readonly perMessageDeflate?: boolean | undefined
  /** Extra HTTP headers of the handshake. */
  readonly headers?: Record<string, string> | undefined
  /** TLS options for `wss://` (a CA for a self-signed server, client certificates, ...). */
  readonly tls?: Pick<Tls.ConnectionOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername"> | undefined
  /** Sends a ping this often; a peer that does not answer within `pongTimeout` fails the channel. Default: no pings. */
  readonly pingInterval?: Duration.Input | undefined
  /** Default: `pingInterval`. */
  readonly pongTimeout?: Duration.Input | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: NodeConnectorOptions) => Connector.Connector["Service"] = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Connector.Connector> = internal.layer

/**
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect } from "effect"
 * import { readFileSync } from "node:fs"
 *
 * const Connector = NodeConnector.layerWith({
 *   openTimeout: "5 seconds",
 *   pingInterval: "15 seconds", // a peer that stops answering fails `read` and is dropped
 *   maxPayload: 1024 * 1024,
 *   tls: { ca: readFileSync("ca.pem") }
 * })
 *
 * const program = ByteChannel.connect("wss://127.0.0.1:8443/chat").pipe(Effect.scoped, Effect.provide(Connector))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith: (options: NodeConnectorOptions) => Layer.Layer<Connector.Connector> = internal.layerWith
