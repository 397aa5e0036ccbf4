import { ByteChannel, CloseCode, Keepalive, MessageSocket, Server, SocketError, Transport } from "@bytechannel/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as BunServer from "../BunServer.js"
import * as Bun from "./bun.js"
import * as constants from "./constants.js"

/** What each upgraded socket carries (`ws.data`): its request's facts, then its engine. */
interface Connection {
  readonly info: Server.ConnectionInfo
  controller: Transport.Controller | undefined
  pongs: number
  /** A close asked for while Bun still held unsent data: sent once that is drained (see `sendClose`). */
  pendingClose: { readonly code: number; readonly reason: string } | undefined
}

/**
 * Bun fails a connection for what it detected itself (a message over `maxPayloadLength`, a bad
 * frame) with a close frame of the right code, and tells the close handler 1006 with the reason it
 * sent. The code it sent, by that reason (Bun 1.4.5's texts); any other is a protocol error.
 */
const WIRE_CODES: Readonly<Record<string, number>> = {
  "Received too big message": CloseCode.MessageTooBig,
  "Received invalid UTF-8": CloseCode.InvalidPayload,
  // permessage-deflate data that does not inflate.
  "Received invalid compressed data": CloseCode.InvalidPayload
}

const headersOf = (headers: Headers): Record<string, string> => {
  const record: Record<string, string> = {}
  headers.forEach((value, name) => {
    record[name] = value
  })
  return record
}

/** Without a header of ours Bun answers with the client's first offer; an empty one sends none. */
const NO_PROTOCOL = { "sec-websocket-protocol": "" }

/**
 * Every answer that is not an upgrade closes its connection: no connection lingers that has not
 * upgraded (Bun bounds an incomplete request head itself; see `handshakeTimeout` in BunServer.ts).
 */
const text = (status: number, body: string, headers?: Record<string, string>) =>
  new Response(body, { status, headers: { "content-type": "text/plain", connection: "close", ...headers } })

/**
 * The request target's path and query from `req.url`: absolute (`http://host/target`), or the
 * bare target when Bun could not make a URL of the Host header (none, empty, or `x/y`). Bun has
 * already resolved dot segments (`/x/../chat` is `/chat`); nothing more is normalized.
 */
const targetOf = (url: string): string => {
  if (url.startsWith("/")) return url
  const start = url.indexOf("/", url.indexOf("//") + 2)
  return start === -1 ? "/" : url.slice(start)
}

const pathOf = (target: string): string => {
  const end = target.search(/[?#]/)
  return end === -1 ? target : target.slice(0, end)
}

/**
 * Whether `Connection` names the `Upgrade` token (RFC 6455 4.2.1). Bun upgrades without it; Node's
 * server treats such a request as a plain one (426), and so does this one.
 */
const upgradeToken = (connection: string | null): boolean =>
  connection !== null && connection.split(",").some((token) => token.trim().toLowerCase() === "upgrade")

/** The subprotocol to select: the server's first that the client offers (any first offer without `protocols`, as ws does). */
const selectProtocol = (offered: string | null, supported: ReadonlyArray<string> | undefined): string => {
  if (offered === null) return ""
  const list = offered.split(",").map((p) => p.trim()).filter((p) => p !== "")
  if (supported === undefined) return list[0] ?? ""
  return supported.find((p) => list.includes(p)) ?? ""
}

/** The engine's transport over one `ServerWebSocket`. */
const transportOf = (ws: Bun.ServerSocket<Connection>, controller: Transport.Controller): Transport.Transport => ({
  write: (message) => {
    const status = typeof message === "string" ? ws.sendText(message) : ws.sendBinary(message)
    // 0 is "dropped" (an empty message also answers 0): with no Bun limit set, only a socket Bun
    // already closed drops, and its close handler tells the engine.
    if (status === 0 && ws.readyState === 1 && (typeof message === "string" ? message.length : message.byteLength) > 0) {
      controller.onError(new SocketError.SocketError({ reason: "Write", detail: "Bun dropped a message" }))
      ws.close(CloseCode.InternalError, "send dropped")
    }
  },
  bufferedAmount: () => ws.getBufferedAmount(),
  // Bun sends the close frame, ends the TCP connection and runs the close handler at once: it does
  // not wait for the peer's answer. Behind unsent data, that would report a clean close while
  // nothing has left (a peer that reads nothing never gets it): the close waits for the drain
  // instead, and the engine's closeTimeout drops a peer that does not read (1006), as on Node.
  sendClose: (code, reason) => {
    if (ws.getBufferedAmount() === 0) return ws.close(code, reason)
    ws.data.pendingClose = { code, reason }
  },
  terminate: () => ws.terminate(),
  pause: () => ws.pause(),
  resume: () => ws.resume(),
  protocol: () => ws.data.info.protocol
})

/** @internal */
export const serve = <E, R>(
  options: BunServer.ServeOptions,
  handler: Server.Handler<E, R>
): Effect.Effect<Server.RunningServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    let server: Bun.HttpServer<Connection> | undefined
    // Finalizers run in reverse: no new connection, then every connection closes (1001), then the listener.
    yield* Effect.addFinalizer(() => server === undefined ? Effect.void : Effect.promise(() => server!.stop(true)))
    const run = yield* FiberSet.makeRuntime<Exclude<R, Scope.Scope>>()
    let accepting = true
    yield* Effect.addFinalizer(() => Effect.sync(() => (accepting = false)))
    let open = 0
    const socketOptions: Transport.TransportOptions = { ...options, receiveOverflow: "pause" }

    const serveConnection = (ws: Bun.ServerSocket<Connection>) => {
      const connection = ws.data
      const controller = Effect.runSync(Transport.make((controller) => transportOf(ws, controller), socketOptions))
      connection.controller = controller
      open++
      let started = false
      const life: Effect.Effect<void, never, Exclude<R, Scope.Scope>> = Effect.scoped(Effect.gen(function*() {
        if (options.pingInterval !== undefined) {
          yield* Keepalive.run(controller, {
            answer: "pong",
            send: () => ws.ping(),
            ready: () => ws.readyState === 1,
            answers: () => connection.pongs
          }, { interval: options.pingInterval, timeout: options.pongTimeout })
        }
        yield* ByteChannel.handle(controller.socket, (channel) => handler(channel, connection.info), { channel: options.channel })
      }))
      const span: Effect.Effect<void, never, Exclude<R, Scope.Scope>> = Effect.withSpan(
        Effect.suspend(() => {
          started = true
          return life
        }),
        "bytechannel.server.connection",
        {
          kind: "server",
          captureStackTrace: false,
          attributes: { "url.path": pathOf(connection.info.url), "client.address": connection.info.remoteAddress ?? "" }
        }
      )
      const fiber = run(span)
      fiber.addObserver((exit) => {
        open--
        // Interrupted before it ran (the server closed in between): nobody else would drop it.
        if (!started) ws.terminate()
        // A defect of the handler (its typed failures end in `handle`, with 1011): said, as on Node.
        if (exit._tag === "Failure" && !Cause.hasInterruptsOnly(exit.cause)) {
          run(Effect.logWarning("bytechannel: could not serve a connection", exit.cause))
        }
      })
    }

    const websocket: Bun.SocketHandler<Connection> = {
      maxPayloadLength: options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD,
      backpressureLimit: constants.BUN_BACKPRESSURE_LIMIT,
      closeOnBackpressureLimit: false,
      idleTimeout: constants.BUN_WEBSOCKET_IDLE_TIMEOUT,
      sendPings: false,
      perMessageDeflate: options.perMessageDeflate ?? false,
      open: (ws) => {
        ws.binaryType = "uint8array"
        if (!accepting) return ws.terminate()
        if (options.maxConnections !== undefined && open >= options.maxConnections) {
          return ws.close(CloseCode.TryAgainLater, "too many connections")
        }
        serveConnection(ws)
      },
      message: (ws, message) => {
        ws.data.controller?.onMessage(message)
      },
      drain: (ws) => {
        const connection = ws.data
        connection.controller?.onDrain()
        const pending = connection.pendingClose
        if (pending !== undefined && ws.getBufferedAmount() === 0) {
          connection.pendingClose = undefined
          ws.close(pending.code, pending.reason)
        }
      },
      ping: (ws, data) => ws.data.controller?.emit(MessageSocket.SocketEvent.Ping({ data })),
      pong: (ws, data) => {
        const connection = ws.data
        connection.pongs++
        connection.controller?.emit(MessageSocket.SocketEvent.Pong({ data }))
      },
      close: (ws, code, reason) => {
        const controller = ws.data.controller
        if (controller === undefined) return
        if (code === CloseCode.Abnormal && reason !== "" && controller.state() === "open") {
          // Bun failed the connection itself and told the peer so (1009 for a message over
          // maxPayload, 1002 for a bad frame): read fails with that code, after what came before.
          const wire = WIRE_CODES[reason] ?? CloseCode.ProtocolError
          controller.onError(new SocketError.SocketError({
            reason: "Read",
            code: wire,
            detail: wire === CloseCode.MessageTooBig
              ? `a message larger than maxPayload (${options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD} bytes)`
              : reason
          }))
          return controller.onClose({ code: CloseCode.Abnormal, reason: "", wasClean: false })
        }
        controller.onClose({ code, reason, wasClean: code !== CloseCode.Abnormal })
      }
    }

    const supported = options.protocols
    const allowOrigins = options.allowOrigins
    const path = options.path
    const host = options.host ?? constants.DEFAULT_HOST
    const port = options.port ?? 0
    const config: Bun.ServeOptions<Connection> = {
        hostname: host,
        port,
        development: false,
        // Off explicitly: with `development: false` Bun 1.4 turns SO_REUSEPORT on, and a busy port
        // would then be shared instead of failing.
        reusePort: false,
        fetch: (request: Request, bun: Bun.HttpServer<Connection>) => {
          if (!accepting) return text(503, "Service Unavailable\n")
          const url = targetOf(request.url)
          if (path !== undefined && pathOf(url) !== path) return text(404, "Not Found\n")
          if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !upgradeToken(request.headers.get("connection"))) {
            return text(426, "This endpoint speaks WebSocket.\n", { upgrade: "websocket" })
          }
          const origin = request.headers.get("origin")
          if (allowOrigins !== undefined && (origin === null || !allowOrigins.includes(origin))) return text(403, "Forbidden\n")
          const protocol = selectProtocol(request.headers.get("sec-websocket-protocol"), supported)
          const data: Connection = {
            info: {
              url,
              headers: headersOf(request.headers),
              remoteAddress: bun.requestIP(request)?.address,
              protocol
            },
            controller: undefined,
            pongs: 0,
            pendingClose: undefined
          }
          const upgraded = bun.upgrade(request, {
            data,
            headers: protocol === "" ? NO_PROTOCOL : { "sec-websocket-protocol": protocol }
          })
          return upgraded ? undefined : text(400, "Bad Request\n")
        },
        error: () => text(500, "Internal Server Error\n"),
        websocket
      }
    try {
      server = Bun.serve(config)
    } catch (cause) {
      const code = (cause as { readonly code?: string } | undefined)?.code
      return yield* Effect.fail(new SocketError.SocketError({
        reason: "Open",
        cause,
        detail: code === "EADDRINUSE" ? `${host}:${port} is already in use` : cause instanceof Error ? cause.message : String(cause)
      }))
    }
    const bound = { host: server.hostname ?? host, port: server.port ?? port }
    return {
      host: bound.host,
      port: bound.port,
      url: `ws://${bound.host.includes(":") ? `[${bound.host}]` : bound.host}:${bound.port}${path ?? ""}`,
      connections: () => open
    }
  })

/** @internal */
export const layer = <E, R>(options: BunServer.ServeOptions, handler: Server.Handler<E, R>) =>
  Layer.effectDiscard(serve(options, handler))

/** @internal */
export const layerServer: Layer.Layer<Server.Server> = Layer.succeed(Server.Server, Server.Server.of({ serve }))
