import { CloseCode, Connector, Keepalive, MessageSocket, SocketError, Transport } from "@bytechannel/core"
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

// The close code ws sends for a protocol error it detects is kept on the error under a symbol
// of its own (`status-code`); read it from there, so `read` fails with the code on the wire.
const wireCodeOf = (error: Error & { readonly code?: string }): number => {
  const symbol = Object.getOwnPropertySymbols(error).find((s) => s.description === "status-code")
  const status = symbol === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[symbol]
  if (typeof status === "number") return status
  switch (error.code) {
    case "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH":
    case "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH":
      return CloseCode.MessageTooBig
    case "WS_ERR_INVALID_UTF8":
      return CloseCode.InvalidPayload
    case "WS_ERR_TOO_MANY_BUFFERED_PARTS":
      return CloseCode.PolicyViolation
    default:
      return CloseCode.ProtocolError
  }
}

/** ws's internals we listen to: the receiver's "conclude" is the peer's close frame. */
interface WsInternals {
  readonly _socket?: Duplex | null
  readonly _receiver?: { on(event: "conclude", listener: (code: number, reason: Buffer) => void): void } | null
}

/** Options of a ws-backed socket, shared by the client and the server. @internal */
export interface WsSocketOptions extends MessageSocket.SocketOptions {
  readonly maxPayload?: number | undefined
  readonly pingInterval?: Duration.Input | undefined
  readonly pongTimeout?: Duration.Input | undefined
}

/**
 * Wires a `ws` WebSocket (open, or still connecting) to the shared socket engine. The socket
 * closes with the scope. @internal
 */
export const fromWebSocket = (
  ws: WebSocket,
  options?: WsSocketOptions
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> => {
  let pongs = 0
  // No Effect.gen on the per-connection path: its generator costs more than the steps it runs.
  return Effect.flatMap(
    Transport.makeScoped((controller) => {
      ws.binaryType = "nodebuffer"
      // binaryType "nodebuffer": every message arrives as one Buffer.
      ws.on("message", (data, isBinary) => {
        const buffer = data as Buffer
        controller.onMessage(isBinary ? buffer : buffer.toString("utf8"))
      })
      // Pongs are ours (ws's autoPong is off): a peer whose pings outrun the pongs we can write
      // is flooding us, and gets a typed 1008 rather than ws's silent terminate.
      let pendingPongs = 0
      const pongWritten = () => {
        pendingPongs--
      }
      ws.on("ping", (data) => {
        controller.emit(MessageSocket.SocketEvent.Ping({ data }))
        if (ws.readyState !== WebSocket.OPEN) return
        if (pendingPongs >= constants.MAX_PENDING_PONGS) {
          controller.onError(
            new SocketError.SocketError({
              reason: "Read",
              code: CloseCode.PolicyViolation,
              detail: `ping flood: more than ${constants.MAX_PENDING_PONGS} pongs waiting to be sent`
            })
          )
          ws.close(CloseCode.PolicyViolation, "ping flood")
          return
        }
        pendingPongs++
        ws.pong(data, undefined, pongWritten)
      })
      ws.on("pong", (data) => {
        pongs++
        controller.emit(MessageSocket.SocketEvent.Pong({ data }))
      })
      ws.on("close", (code, reason) => {
        controller.onClose({ code, reason: reason.toString("utf8"), wasClean: code !== CloseCode.Abnormal })
      })
      ws.on("error", (cause) => {
        const error = cause as Error & { readonly code?: string }
        // Protocol errors (too big, invalid UTF-8, bad frames) fail `read` with the code ws sent;
        // transport errors end as a 1006 close, reported by the "close" event that follows.
        if (ws.readyState === WebSocket.CONNECTING || !error.code?.startsWith("WS_ERR_")) return
        controller.onError(new SocketError.SocketError({ reason: "Read", code: wireCodeOf(error), cause: error, detail: error.message }))
      })
      const onOpen = () => {
        const internals = ws as unknown as WsInternals
        // No per-send callback: a sender only waits when bufferedAmount is above the high-water
        // mark, far above the socket's own, so the socket's "drain" event is what wakes it.
        internals._socket?.on("drain", controller.onDrain)
        // The peer's close frame: ws answers it at once (or had sent ours), so the close
        // handshake is complete once that answer left the process: now, or when the socket's
        // buffer drains (it may wait behind data a slow peer has not read yet; a process that
        // exits before would leave the peer a 1006). ws's "close" waits for TCP to end too, which
        // a peer can hold open; the engine need not wait for that (ws's closeTimeout bounds it).
        internals._receiver?.on("conclude", (code, reason) => {
          const closed = () => controller.onClose({ code, reason: reason.toString("utf8"), wasClean: true })
          const socket = internals._socket
          if (socket == null || socket.writableLength === 0) closed()
          else socket.once("drain", closed)
        })
      }
      if (ws.readyState === WebSocket.OPEN) onOpen()
      else ws.once("open", onOpen)
      return {
        write: (message) => ws.send(message, typeof message === "string" ? TEXT : BINARY),
        bufferedAmount: () => ws.bufferedAmount,
        sendClose: (code, reason) => ws.close(code, reason),
        terminate: () => ws.terminate(),
        pause: () => ws.pause(),
        resume: () => ws.resume(),
        protocol: () => ws.protocol
      }
      // ws pauses the socket itself: real backpressure, whatever the options object holds.
    }, { ...options, receiveOverflow: "pause" }),
    (controller) =>
      options?.pingInterval === undefined
        ? Effect.succeed(controller.socket)
        : Effect.as(
          Keepalive.run(controller, {
            answer: "pong",
            send: () => ws.ping(),
            // Pings wait for the handshake: ws throws on a ping while CONNECTING.
            ready: () => ws.readyState === WebSocket.OPEN,
            answers: () => pongs
          }, { interval: options.pingInterval, timeout: options.pongTimeout }),
          controller.socket
        )
  )
}

/** ws's own close timer (its default is 30 s) set to ours: no wait outlives `closeTimeout`. @internal */
export const closeTimeoutMillis = (options: { readonly closeTimeout?: Duration.Input | undefined } | undefined) =>
  Math.min(Duration.toMillis(options?.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS), constants.MAX_TIMER_MILLIS)

const toProtocols = Connector.protocolList

/** Opens a ws:// or wss:// connection. @internal */
export const connect = (
  url: URL,
  options: NodeConnector.NodeConnectorOptions & { readonly protocols?: string | ReadonlyArray<string> | undefined }
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.suspend(() => {
    const opened = Deferred.makeUnsafe<void, SocketError.SocketError>()
    let ws: WebSocket
    try {
      ws = new WebSocket(url, toProtocols(options.protocols), {
        autoPong: false,
        // ws 8.23 takes closeTimeout; its type declarations do not list it yet.
        ...{ closeTimeout: closeTimeoutMillis(options) },
        perMessageDeflate: options.perMessageDeflate ?? false,
        maxPayload: options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD,
        headers: options.headers,
        followRedirects: false,
        ...options.tls
      })
    } catch (cause) {
      // Options ws refuses synchronously (a header with a line break, a bad protocol name).
      return Effect.fail(new SocketError.SocketError({ reason: "Open", cause, detail: cause instanceof Error ? cause.message : String(cause) }))
    }
    ws.on("unexpected-response", (request, response) => {
      Deferred.doneUnsafe(
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
    // Before "open", every error ends the handshake.
    let isOpen = false
    ws.on("error", (error) => {
      if (!isOpen) {
        Deferred.doneUnsafe(opened, Effect.fail(new SocketError.SocketError({ reason: "Open", cause: error, detail: error.message })))
      }
    })
    ws.once("close", (code) => {
      if (isOpen) return
      Deferred.doneUnsafe(
        opened,
        Effect.fail(new SocketError.SocketError({ reason: "Open", code, detail: "closed before the handshake completed" }))
      )
    })
    ws.once("open", () => {
      isOpen = true
      Deferred.doneUnsafe(opened, Effect.void)
    })
    return Effect.flatMap(fromWebSocket(ws, options), (socket) =>
      // A deadline, not an idle timer: a server that dribbles its answer is cut at `openTimeout`.
      Effect.as(
        Transport.awaitOpen(opened, {
          timeout: options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS,
          abort: () => ws.terminate()
        }),
        socket
      ))
  })
