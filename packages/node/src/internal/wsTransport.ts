import { CloseCode, Connector, Keepalive, MessageSocket, SocketError, Transport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
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
  readonly _receiver?: { on(event: "conclude", listener: (this: unknown, code: number, reason: Buffer) => void): void } | null
}

/** Options of a ws-backed socket, shared by the client and the server. @internal */
export interface WsSocketOptions extends MessageSocket.SocketOptions {
  readonly maxPayload?: number | undefined
  readonly pingInterval?: Duration.Input | undefined
  readonly pongTimeout?: Duration.Input | undefined
}

// Each ws socket (and its receiver) carries its link under this key: the listeners below are
// shared by every connection, not closures made per connection.
const LINK = Symbol.for("@bytechannel/node/wsLink")
type Linked = { [LINK]: WsLink }
const linkOf = (emitter: unknown): WsLink => (emitter as Linked)[LINK]

/**
 * One ws connection as the engine's transport (its methods), with what its listeners keep: the
 * controller, the pongs counted and pending, and for a client still opening, the open's outcome.
 */
class WsLink implements Transport.Transport {
  /** Set once the engine exists; until then (a few steps, across which ws may emit) events wait in `early`. */
  controller: Transport.Controller | undefined = undefined
  private early: Array<(controller: Transport.Controller) => void> | undefined = undefined
  pongs = 0
  pendingPongs = 0
  private pongWritten: (() => void) | undefined = undefined
  /** A client's handshake: completed at "open", failed by an error or close before it. */
  opened: Deferred.Deferred<void, SocketError.SocketError> | undefined = undefined
  isOpen = false
  constructor(readonly ws: WebSocket) {
    ;(ws as unknown as Linked)[LINK] = this
  }
  write(message: MessageSocket.Message) {
    this.ws.send(message, typeof message === "string" ? TEXT : BINARY)
  }
  bufferedAmount() {
    return this.ws.bufferedAmount
  }
  sendClose(code: number, reason: string) {
    this.ws.close(code, reason)
  }
  terminate() {
    this.ws.terminate()
  }
  pause() {
    this.ws.pause()
  }
  resume() {
    this.ws.resume()
  }
  protocol() {
    return this.ws.protocol
  }
  /** ws calls it when a pong left: one closure per connection that is pinged at all. */
  pongDone(): () => void {
    return this.pongWritten ??= () => {
      this.pendingPongs--
    }
  }
  /** Runs `f` with the controller now, or once it exists. */
  later(f: (controller: Transport.Controller) => void) {
    ;(this.early ??= []).push(f)
  }
  /** The controller exists: what ws emitted before it reaches it, in order. */
  bind(controller: Transport.Controller) {
    this.controller = controller
    if (this.ws.readyState === WebSocket.OPEN) hookOpen(this, controller)
    const early = this.early
    this.early = undefined
    if (early !== undefined) for (const f of early) f(controller)
  }
  /**
   * A client's close handshake, done (both close frames exchanged), reported to the engine once
   * ws's "close" came: the client then drops its TCP socket itself (RFC 6455 7.1.1 lets it; ws
   * has ended its side already), so the close completes with what the connection held released
   * (as a ws user awaits "close"), and a peer that keeps its side open is not waited for.
   */
  client = false
  concluded: { readonly code: number; readonly reason: string; readonly wasClean: boolean } | undefined = undefined
  /** The handshake failed (before "open"): the connect fails with `error`. */
  failOpen(error: SocketError.SocketError) {
    const opened = this.opened
    this.opened = undefined
    if (opened !== undefined) Deferred.doneUnsafe(opened, Exit.fail(error))
  }
}

// binaryType "nodebuffer": every message arrives as one Buffer.
function onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean) {
  const buffer = data as Buffer
  const message = isBinary ? buffer : buffer.toString("utf8")
  const link = linkOf(this)
  if (link.controller !== undefined) link.controller.onMessage(message)
  else link.later((controller) => controller.onMessage(message))
}

// Pongs are ours (ws's autoPong is off): a peer whose pings outrun the pongs we can write is
// flooding us, and gets a typed 1008 rather than ws's silent terminate.
function onPing(this: WebSocket, data: Buffer) {
  const link = linkOf(this)
  link.controller?.emit(MessageSocket.SocketEvent.Ping({ data }))
  if (this.readyState !== WebSocket.OPEN) return
  if (link.pendingPongs >= constants.MAX_PENDING_PONGS) {
    const error = new SocketError.SocketError({
      reason: "Read",
      code: CloseCode.PolicyViolation,
      detail: `ping flood: more than ${constants.MAX_PENDING_PONGS} pongs waiting to be sent`
    })
    if (link.controller !== undefined) link.controller.onError(error)
    else link.later((controller) => controller.onError(error))
    this.close(CloseCode.PolicyViolation, "ping flood")
    return
  }
  link.pendingPongs++
  this.pong(data, undefined, link.pongDone())
}

function onPong(this: WebSocket, data: Buffer) {
  const link = linkOf(this)
  link.pongs++
  link.controller?.emit(MessageSocket.SocketEvent.Pong({ data }))
}

function onClose(this: WebSocket, code: number, reason: Buffer) {
  const link = linkOf(this)
  if (!link.isOpen) {
    link.failOpen(new SocketError.SocketError({ reason: "Open", code, detail: "closed before the handshake completed" }))
  }
  const info = link.concluded ?? { code, reason: reason.toString("utf8"), wasClean: code !== CloseCode.Abnormal }
  if (link.controller !== undefined) link.controller.onClose(info)
  else link.later((controller) => controller.onClose(info))
}

function onError(this: WebSocket, cause: Error) {
  const link = linkOf(this)
  // Before "open", every error ends the handshake.
  if (!link.isOpen) link.failOpen(new SocketError.SocketError({ reason: "Open", cause, detail: cause.message }))
  const error = cause as Error & { readonly code?: string }
  // Protocol errors (too big, invalid UTF-8, bad frames) fail `read` with the code ws sent;
  // transport errors end as a 1006 close, reported by the "close" event that follows.
  if (this.readyState === WebSocket.CONNECTING || !error.code?.startsWith("WS_ERR_")) return
  const failure = new SocketError.SocketError({ reason: "Read", code: wireCodeOf(error), cause: error, detail: error.message })
  if (link.controller !== undefined) link.controller.onError(failure)
  else link.later((controller) => controller.onError(failure))
}

function onOpen(this: WebSocket) {
  const link = linkOf(this)
  // The handshake's listeners make way for the open socket's (ws keeps listeners in a hash
  // table that grows past five events and never shrinks: removed first, their slots are reused).
  this.removeListener("open", onOpen)
  this.removeListener("unexpected-response", onUnexpectedResponse)
  listenOpen(this)
  // Before the engine exists, it hooks the open socket itself.
  if (link.controller !== undefined) hookOpen(link, link.controller)
  link.isOpen = true
  const opened = link.opened
  link.opened = undefined
  if (opened !== undefined) Deferred.doneUnsafe(opened, Exit.void)
}

// The peer's close frame: ws answers it at once (or had sent ours), so the close handshake is
// complete once that answer left the process: now, or when the socket's buffer drains (it may
// wait behind data a slow peer has not read yet; a process that exits before would leave the
// peer a 1006). ws's "close" waits for TCP to end too, which a peer can hold open; the engine
// need not wait for that (ws's closeTimeout bounds it): a server reports the close now, a client
// drops its TCP socket now and reports it at ws's "close" (see `WsLink.client`).
function onConclude(this: unknown, code: number, reason: Buffer) {
  const link = linkOf(this)
  const info = { code, reason: reason.toString("utf8"), wasClean: true }
  const closed = link.client
    ? () => {
      // Reported by ws's "close", which follows at once from this process alone.
      link.concluded = info
      link.ws.terminate()
    }
    : () => link.controller!.onClose(info)
  const socket = (link.ws as unknown as WsInternals)._socket
  if (socket == null || socket.writableLength === 0) closed()
  else socket.once("drain", closed)
}

/** What only an open socket has: its TCP socket's "drain", its receiver's "conclude". */
const hookOpen = (link: WsLink, controller: Transport.Controller) => {
  const internals = link.ws as unknown as WsInternals
  // No per-send callback: a sender only waits when bufferedAmount is above the high-water
  // mark, far above the socket's own, so the socket's "drain" event is what wakes it.
  internals._socket?.on("drain", controller.onDrain)
  const receiver = internals._receiver
  if (receiver != null) {
    ;(receiver as unknown as Linked)[LINK] = link
    receiver.on("conclude", onConclude)
  }
}

/** What only an open socket emits: messages, pings, pongs. */
const listenOpen = (ws: WebSocket) => {
  ws.on("message", onMessage)
  ws.on("ping", onPing)
  ws.on("pong", onPong)
}

/** Every listener of a connection, on the ws socket itself (a client's from before its handshake). */
const listen = (ws: WebSocket) => {
  ws.on("close", onClose)
  ws.on("error", onError)
  // "open" comes once at most: `on`, without `once`'s wrapper. ws emits it before it reads the
  // bytes after the 101, so listening for messages from then on misses none.
  if (ws.readyState === WebSocket.OPEN) listenOpen(ws)
  else ws.on("open", onOpen)
}

/** The engine's options for a ws socket: ws pauses the socket itself, real backpressure. */
const transportOptions = (options: WsSocketOptions | undefined): Transport.TransportOptions =>
  (options as Transport.TransportOptions | undefined)?.receiveOverflow === "pause"
    ? options!
    : { ...options, receiveOverflow: "pause" }

/** The socket over a link whose listeners are set, closed with the scope; keepalive if asked. */
const socketOf = (
  link: WsLink,
  options: WsSocketOptions | undefined
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> => {
  const ws = link.ws
  // No Effect.gen on the per-connection path: its generator costs more than the steps it runs.
  return Effect.flatMap(
    Transport.makeScoped(() => link, transportOptions(options)),
    (controller) => {
      // The engine has its transport: it hooks the open socket, and what ws emitted meanwhile reaches it now.
      link.bind(controller)
      return options?.pingInterval === undefined
        ? Effect.succeed(controller.socket)
        : Effect.as(
          Keepalive.run(controller, {
            answer: "pong",
            send: () => ws.ping(),
            // Pings wait for the handshake: ws throws on a ping while CONNECTING.
            ready: () => ws.readyState === WebSocket.OPEN,
            answers: () => link.pongs
          }, { interval: options.pingInterval, timeout: options.pongTimeout }),
          controller.socket
        )
    }
  )
}

const newLink = (ws: WebSocket): WsLink => {
  const link = new WsLink(ws)
  link.isOpen = ws.readyState === WebSocket.OPEN
  ws.binaryType = "nodebuffer"
  listen(ws)
  return link
}

/**
 * Wires a `ws` WebSocket (open, or still connecting) to the shared socket engine. The socket
 * closes with the scope. @internal
 */
export const fromWebSocket = (
  ws: WebSocket,
  options?: WsSocketOptions
): Effect.Effect<MessageSocket.MessageSocket, never, Scope.Scope> => Effect.suspend(() => socketOf(newLink(ws), options))

/**
 * @internal
 * A server's open socket for its owner to close (`ByteChannel.handle` closes it on every exit),
 * without a scope: one scope per connection (the handler's), not two. Without keepalive only,
 * whose probe runs in the scope.
 */
export const fromWebSocketOwned = (
  ws: WebSocket,
  options: Omit<WsSocketOptions, "pingInterval">
): Effect.Effect<MessageSocket.MessageSocket> =>
  Effect.suspend(() => {
    const link = newLink(ws)
    return Effect.map(Transport.make(() => link, transportOptions(options)), (controller) => {
      link.bind(controller)
      return controller.socket
    })
  })

/** ws's own close timer (its default is 30 s) set to ours: no wait outlives `closeTimeout`. @internal */
export const closeTimeoutMillis = (options: { readonly closeTimeout?: Duration.Input | undefined } | undefined) =>
  Math.min(Duration.toMillis(options?.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS), constants.MAX_TIMER_MILLIS)

const toProtocols = Connector.protocolList

function onUnexpectedResponse(this: WebSocket, request: Http.ClientRequest, response: Http.IncomingMessage) {
  linkOf(this).failOpen(
    new SocketError.SocketError({
      reason: "Open",
      status: response.statusCode,
      detail: `the server answered the handshake with HTTP ${response.statusCode}`
    })
  )
  request.destroy()
  response.destroy()
}

/** Opens a ws:// or wss:// connection. @internal */
export const connect = (
  url: URL,
  options: NodeConnector.NodeConnectorOptions & { readonly protocols?: string | ReadonlyArray<string> | undefined }
): Effect.Effect<MessageSocket.MessageSocket, SocketError.SocketError, Scope.Scope> =>
  Effect.suspend(() => {
    const closeTimeout = closeTimeoutMillis(options)
    let ws: WebSocket
    try {
      ws = new WebSocket(url, toProtocols(options.protocols), {
        autoPong: false,
        // ws 8.23 takes closeTimeout; its type declarations do not list it yet.
        ...{ closeTimeout },
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
    const link = new WsLink(ws)
    const opened = Deferred.makeUnsafe<void, SocketError.SocketError>()
    link.opened = opened
    ws.binaryType = "nodebuffer"
    ws.on("unexpected-response", onUnexpectedResponse)
    link.client = true
    listen(ws)
    return Effect.flatMap(socketOf(link, options), (socket) =>
      // A deadline, not an idle timer: a server that dribbles its answer is cut at `openTimeout`.
      Effect.as(
        Transport.awaitOpen(opened, {
          timeout: options.openTimeout ?? constants.DEFAULT_OPEN_TIMEOUT_MILLIS,
          abort: () => ws.terminate()
        }),
        socket
      ))
  })
