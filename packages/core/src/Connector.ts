/**
 * The socket service. Programs depend on `Connector` only; the Node, browser and test layers
 * provide it, so one program runs unchanged on each platform and in tests.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/connector.js"
import type { MessageSocket } from "./MessageSocket.js"
import type { SocketError } from "./SocketError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  /** Subprotocols offered to the server. */
  readonly protocols?: string | ReadonlyArray<string> | undefined
  /** How long the opening handshake may take. Default 10 seconds. */
  readonly openTimeout?: Duration.Input | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Connector extends Context.Service<Connector, {
  /**
   * Opens a connection to `url`. The socket is closed (code 1000, then dropped after the close
   * timeout) when the scope closes.
   */
  readonly connect: (
    url: string | URL,
    options?: ConnectOptions
  ) => Effect.Effect<MessageSocket, SocketError, Scope.Scope>
}>()("@bytechannel/core/Connector") {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  connect: (url: string | URL, options?: ConnectOptions) => Effect.Effect<MessageSocket, SocketError, Scope.Scope>
): Connector["Service"] => Connector.of({ connect })

/**
 * Opens a connection with the `Connector` in the context.
 *
 * @example
 * ```ts
 * import { Connector } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect } from "effect"
 *
 * // The raw message socket, for text frames or message boundaries that matter.
 * const program = Effect.gen(function*() {
 *   const socket = yield* Connector.connect("ws://127.0.0.1:8080/raw", { protocols: "v1" })
 *   yield* socket.send("a text message")
 *   return yield* socket.receive // Option.some("..." or a Uint8Array), None after a clean close
 * }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const connect = (
  url: string | URL,
  options?: ConnectOptions
): Effect.Effect<MessageSocket, SocketError, Connector | Scope.Scope> =>
  Connector.use((connector) => connector.connect(url, options))

/**
 * Parses the URL a connector is asked to open, the same way on every platform: `http:` and
 * `https:` become `ws:` and `wss:` (as `ws` and WHATWG `WebSocket` do), a relative URL is
 * resolved against `base`, and an empty, invalid or unsupported URL fails with `SocketError`
 * reason `Open`, listing the schemes that work. For connector authors.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseUrl: (
  url: string | URL,
  options: { readonly schemes: ReadonlyArray<string>; readonly base?: string | undefined }
) => Effect.Effect<URL, SocketError> = internal.parseUrl

/**
 * Names `url` on an `Open` or `OpenTimeout` error that does not name one yet, so a connection
 * that could not be opened says where it was going. For connector authors.
 *
 * @since 0.1.0
 * @category utils
 */
export const withUrl: (url: URL) => (error: SocketError) => SocketError = internal.withUrl

/**
 * The subprotocols of {@link ConnectOptions} as a list, as `ws`, `WebSocket` and
 * `WebSocketStream` take them: `[]` for none, `[protocols]` for one. For connector authors.
 *
 * @since 0.1.0
 * @category utils
 */
export const protocolList: (protocols: ConnectOptions["protocols"]) => Array<string> = internal.protocolList
