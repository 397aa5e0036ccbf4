/**
 * A WHATWG `WebSocket` (browsers, Bun, Deno, Node 22's global one, and the server-side socket
 * `Deno.upgradeWebSocket` gives) as a `MessageSocket` on the shared engine. It is what
 * `WebSocketConnector` opens, and what a server runtime whose sockets are WHATWG ones serves.
 *
 * Such a socket cannot pause reading, so the receive queue is bounded another way: past
 * `receiveLimitMessages` or `receiveLimitBytes` unread, `receive` fails with `ReceiveOverflow`
 * and the connection closes with 1009. It has no drain event either: `send` waits while
 * `bufferedAmount` is at or above `sendHighWaterMark`, polled until it drains. A peer's close
 * frame gives no event until the peer ends TCP (Node's and Bun's sockets wait for ever): a
 * socket the runtime has been closing for `closeTimeout` is dropped and reported closed (1006).
 *
 * @since 1.0.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/webSocketTransport.js"
import type * as MessageSocket from "./MessageSocket.js"
import type { SocketError } from "./SocketError.js"
import type * as Transport from "./Transport.js"

/**
 * An application-level heartbeat, for sockets with no ping API: sends `message` (if given)
 * every `interval`, and fails the connection (1006) when nothing at all was received for
 * `idleTimeout` (default twice the interval) after one.
 *
 * @since 1.0.0
 * @category models
 */
export interface Heartbeat {
  readonly interval: Duration.Input
  readonly idleTimeout?: Duration.Input | undefined
  readonly message?: MessageSocket.Message | undefined
}

/**
 * @since 1.0.0
 * @category models
 */
export interface WebSocketTransportOptions extends MessageSocket.SocketOptions {
  /** When the socket is still connecting: how long its opening handshake may take. Default 10 seconds. */
  readonly openTimeout?: Duration.Input | undefined
  /**
   * Most bytes that may be unread (a text message counts its UTF-16 length); past it, ReceiveOverflow
   * (1009). Default 8 MiB; `receiveHighWaterBytes`, when given, wins (the engine's bound: reaching it fails).
   */
  readonly receiveLimitBytes?: number | undefined
  /**
   * Most messages that may be unread; past it, ReceiveOverflow (1009). Default 1024;
   * `receiveHighWaterMessages`, when given, wins (the engine's bound: reaching it fails).
   */
  readonly receiveLimitMessages?: number | undefined
  /**
   * Largest message accepted, in bytes as on the wire (a text message counts its UTF-8 bytes);
   * a larger one fails `receive` with `Read` code 1009 and closes the connection with 1009.
   * Default: the runtime's own limit.
   */
  readonly maxPayload?: number | undefined
  /**
   * How the close codes of the protocol (1001, 1009, 1011, ...) go on the wire. `"in-reason"`
   * (the default) as a browser must send them: 1000 with the code in the reason
   * (`"1009: receive buffer full"`); 1000 and 3000–4999 go as they are. `"as-is"`: as they are,
   * where the runtime allows it (a server's socket; Bun's client), else in the reason (the
   * WHATWG `close()` of browsers, Deno and Node refuses them).
   */
  readonly closeCodes?: "in-reason" | "as-is" | undefined
  readonly heartbeat?: Heartbeat | undefined
  /**
   * How to drop the connection at once, where the runtime has a way. Default: the socket's own
   * `terminate()` where it has one (Bun's client), else `close(1000)` (a WHATWG WebSocket cannot
   * drop); the socket is reported closed (1006) at once either way.
   */
  readonly terminate?: (() => void) | undefined
}

/**
 * `ws`, open or still connecting, as a `MessageSocket`; its messages are read from now on. A
 * connecting socket is waited for (`OpenTimeout` past `openTimeout`; `Open` when it fails). The
 * socket is closed when the scope closes (1000, then dropped after the close timeout).
 *
 * @example
 * ```ts
 * import { ByteChannel, WebSocketTransport } from "@bytechannel/core"
 * import { Effect, Stream } from "effect"
 *
 * // A server runtime whose upgrade gives a WHATWG WebSocket (Deno.upgradeWebSocket): an echo.
 * // A server's socket may send 1009 or 1011 as they are; the handler's end closes with 1000.
 * const serveSocket = (ws: WebSocket) =>
 *   WebSocketTransport.fromWebSocket(ws, { closeCodes: "as-is", maxPayload: 1024 * 1024 }).pipe(
 *     Effect.flatMap((socket) => ByteChannel.handle(socket, (channel) => Stream.run(channel.read, channel.write))),
 *     Effect.scoped
 *   )
 * ```
 *
 * @since 1.0.0
 * @category constructors
 */
export const fromWebSocket: (
  ws: WebSocket,
  options?: WebSocketTransportOptions
) => Effect.Effect<MessageSocket.MessageSocket, SocketError, Scope.Scope> = internal.fromWebSocket

/**
 * Runs `heartbeat` on a connection in the current scope, for transport authors whose socket has
 * no ping API (`fromWebSocket` runs it itself).
 *
 * @since 1.0.0
 * @category constructors
 */
export const heartbeat: (
  controller: Transport.Controller,
  heartbeat: Heartbeat
) => Effect.Effect<void, never, Scope.Scope> = internal.heartbeat
