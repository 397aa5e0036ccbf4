import { MessageSocket, SocketError } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Duplex } from "node:stream"
import { WebSocket } from "ws"
import type * as NodeConnector from "../NodeConnector.js"
import * as constants from "./constants.js"

const BINARY = { binary: true } as const
const TEXT = { binary: false } as const

// Close codes for the protocol errors ws detects (it sends the same code to the peer).
const statusOf = (code: string | undefined): number => {
  switch (code) {
    case "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH":
      return constants.CLOSE_MESSAGE_TOO_BIG
    case "WS_ERR_INVALID_UTF8":
      return 1007
    default:
      return 1002
  }
}

/** Options of a ws-backed socket, shared by the client and the server. @internal */
export interface WsSocketOptions extends MessageSocket.ControllerOptions {
  readonly pingInterval?: Duration.DurationInput | undefined
  readonly pongTimeout?: Duration.DurationInput | undefined
}

/**
 * Wires a `ws` WebSocket (open, or still connecting) to the shared socket engine. The socket
 * closes with the scope. @internal
 */
export const fromWebSocket = (
  ws: WebSocket,
  options?: WsSocketOptions
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> =>
  Effect.gen(function*() {
    let controller: MessageSocket.Controller | undefined
    const drained = () => controller?.drained()
    const transport: MessageSocket.Transport = {
      // No per-send callback: a sender only waits when bufferedAmount is above the high-water
      // mark, far above the socket's own, so the socket's "drain" event is what wakes it.
      write: (message) => ws.send(message, typeof message === "string" ? TEXT : BINARY),
      bufferedAmount: () => ws.bufferedAmount,
      sendClose: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      pause: () => ws.pause(),
      resume: () => ws.resume()
    }
    const engine = yield* MessageSocket.make(transport, options)
    controller = engine

    ws.binaryType = "nodebuffer"
    // binaryType "nodebuffer": every message arrives as one Buffer.
    ws.on("message", (data, isBinary) => {
      const buffer = data as Buffer
      engine.offer(isBinary ? buffer : buffer.toString("utf8"))
    })
    ws.on("ping", (data) => engine.emit(MessageSocket.SocketEvent.Ping({ data })))
    ws.on("pong", (data) => {
      pongSeen = true
      engine.emit(MessageSocket.SocketEvent.Pong({ data }))
    })
    ws.on("close", (code, reason) => {
      engine.closed({ code, reason: reason.toString("utf8"), wasClean: code !== 1006 })
    })
    ws.on("error", (cause) => {
      const error = cause as Error & { readonly code?: string }
      // Protocol errors (too big, invalid UTF-8, bad frames) fail `read` with the code ws sent;
      // transport errors end as a 1006 close, reported by the "close" event that follows.
      if (ws.readyState === WebSocket.CONNECTING || !error.code?.startsWith("WS_ERR_")) return
      engine.fail(new SocketError.SocketError({ reason: "Read", code: statusOf(error.code), cause: error, detail: error.message }))
    })
    const watchDrain = () => {
      const socket = (ws as unknown as { _socket?: Duplex })._socket
      socket?.on("drain", drained)
    }
    if (ws.readyState === WebSocket.OPEN) watchDrain()
    else ws.once("open", watchDrain)

    let pongSeen = false
    if (options?.pingInterval !== undefined) {
      const interval = Duration.decode(options.pingInterval)
      const pongTimeout = Duration.decode(options.pongTimeout ?? options.pingInterval)
      const keepalive = Effect.gen(function*() {
        while (true) {
          yield* Effect.sleep(interval)
          if (engine.state() !== "open") return
          pongSeen = false
          ws.ping()
          yield* Effect.sleep(pongTimeout)
          // A paused socket cannot read the pong: backpressure is not a dead peer.
          if (engine.state() !== "open" || ws.isPaused || pongSeen) continue
          engine.fail(
            new SocketError.SocketError({
              reason: "Read",
              code: 1006,
              detail: `no pong within ${Duration.format(pongTimeout)}: the peer is not answering`
            })
          )
          ws.terminate()
          return
        }
      })
      yield* Effect.forkScoped(keepalive)
    }

    yield* MessageSocket.closeOnScopeClose(engine.socket)
    return engine.socket
  })

const toProtocols = (protocols: string | ReadonlyArray<string> | undefined) =>
  protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols]

/** Opens a ws:// or wss:// connection. @internal */
export const connect = (
  url: URL,
  options: NodeConnector.NodeConnectorOptions & { readonly protocols?: string | ReadonlyArray<string> | undefined }
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const opened = yield* Deferred.make<void, SocketError.SocketError>()
    const openTimeout = Duration.decode(options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS)
    // ws's own timer bounds the handshake: no extra fiber per connection.
    const ws = new WebSocket(url, toProtocols(options.protocols), {
      handshakeTimeout: Duration.toMillis(openTimeout),
      perMessageDeflate: options.perMessageDeflate ?? false,
      maxPayload: options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD,
      headers: options.headers,
      followRedirects: false,
      ...options.tls
    })
    ws.on("unexpected-response", (request, response) => {
      Deferred.unsafeDone(
        opened,
        Effect.fail(
          new SocketError.SocketError({
            reason: "Open",
            status: response.statusCode,
            detail: `the server answered the handshake with HTTP ${response.statusCode}`
          })
        )
      )
      request.destroy()
      response.destroy()
    })
    // Before "open", every error ends the handshake (ws reports its own timeout while CLOSING).
    let isOpen = false
    ws.on("error", (error) => {
      if (!isOpen) {
        const timedOut = error.message === "Opening handshake has timed out"
        Deferred.unsafeDone(
          opened,
          Effect.fail(
            new SocketError.SocketError({
              reason: timedOut ? "OpenTimeout" : "Open",
              cause: error,
              detail: timedOut ? `no handshake within ${Duration.format(openTimeout)}` : error.message
            })
          )
        )
      }
    })
    ws.once("close", (code) => {
      if (isOpen) return
      Deferred.unsafeDone(
        opened,
        Effect.fail(new SocketError.SocketError({ reason: "Open", code, detail: "closed before the handshake completed" }))
      )
    })
    ws.once("open", () => {
      isOpen = true
      Deferred.unsafeDone(opened, Effect.void)
    })
    const socket = yield* fromWebSocket(ws, options)
    yield* Deferred.await(opened).pipe(
      Effect.onExit((exit) => (exit._tag === "Failure" ? Effect.sync(() => ws.terminate()) : Effect.void))
    )
    return { ...socket, protocol: ws.protocol }
  })
