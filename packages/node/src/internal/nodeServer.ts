import { ByteChannel, CloseCode, type MessageSocket, Server, SocketError } from "@bytechannel/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Https from "node:https"
import * as Net from "node:net"
import type { Duplex } from "node:stream"
import { type WebSocket, WebSocketServer } from "ws"
import type * as NodeServer from "../NodeServer.js"
import * as constants from "./constants.js"
import { makeConnections, tcpPeers, wsPeers } from "./connections.js"
import { fromNetSocket } from "./tcpTransport.js"
import { closeTimeoutMillis, fromWebSocket, fromWebSocketOwned } from "./wsTransport.js"

const refuse = (socket: Duplex, status: number, message: string) => {
  if (socket.writable && !socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

/**
 * Wraps a listener the library registers on `node:http`, `ws` or `node:net`: nothing thrown
 * inside may escape to the emitter (where it would end the process).
 */
const guard = <A extends ReadonlyArray<unknown>>(listener: (...args: A) => unknown, onThrow: (...args: A) => void) =>
(...args: A): void => {
  const fallback = () => {
    try {
      onThrow(...args)
    } catch {
      // nothing more can be done for this socket
    }
  }
  try {
    const result = listener(...args)
    // An async listener (a user's `onRequest`) that rejects must not become an unhandled rejection.
    if (result instanceof Promise) result.then(undefined, fallback)
  } catch {
    fallback()
  }
}

const ignore = () => {}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i

/**
 * The path of a request target exactly as the client wrote it (no query, nothing normalized:
 * `//host/chat`, `/x/../chat` and `/chat\` are not `/chat`), or `undefined` when the target is
 * malformed: only origin-form (`/path?query`) and absolute-form (`scheme://host/path`) targets
 * that parse as a URL are accepted.
 */
const pathOf = (target: string | undefined): string | undefined => {
  if (target === undefined) return undefined
  const authority = target.startsWith("/") ? undefined : ABSOLUTE_FORM.exec(target)
  if (authority === null) return undefined
  try {
    new URL(target, "http://localhost")
  } catch {
    return undefined
  }
  const rest = authority === undefined ? target : target.slice(authority[0].length)
  const end = rest.search(/[?#]/)
  const path = end === -1 ? rest : rest.slice(0, end)
  return path === "" ? "/" : path
}

/**
 * Sockets between their first byte and a completed upgrade: each has a deadline, and there is
 * a bound on how many there may be.
 */
const makePending = (timeout: number, max: number) => {
  const entries = new Map<Duplex, { readonly timer: ReturnType<typeof setTimeout>; onTimeout: () => void }>()
  const done = (socket: Duplex) => {
    const entry = entries.get(socket)
    if (entry === undefined) return
    clearTimeout(entry.timer)
    entries.delete(socket)
    // An upgraded socket lives on: nothing of its handshake may stay attached to it.
    socket.off("close", onClose)
  }
  const onClose = function(this: Duplex) {
    done(this)
  }
  return {
    /**
     * Starts the deadline of a socket, or (already started) changes what happens when it
     * passes; false when the bound is reached (the caller drops the socket).
     */
    add: (socket: Duplex, onTimeout: () => void): boolean => {
      const existing = entries.get(socket)
      if (existing !== undefined) {
        existing.onTimeout = onTimeout
        return true
      }
      if (entries.size >= max) return false
      const entry = {
        timer: setTimeout(() => {
          entries.delete(socket)
          entry.onTimeout()
        }, timeout),
        onTimeout
      }
      entries.set(socket, entry)
      socket.on("close", onClose)
      return true
    },
    done,
    closeAll: () => {
      for (const [socket, entry] of entries) {
        clearTimeout(entry.timer)
        socket.destroy()
      }
      entries.clear()
    }
  }
}

const handshakeTimeoutMillis = (options: NodeServer.ServerOptions) =>
  Math.min(Duration.toMillis(options.handshakeTimeout ?? constants.DEFAULT_HANDSHAKE_TIMEOUT_MILLIS), constants.MAX_TIMER_MILLIS)

/** What a handler learns of its connection: copied, so the request itself is not kept. */
const connectionInfo = (ws: WebSocket, request: Http.IncomingMessage): NodeServer.ConnectionInfo => ({
  url: request.url ?? "/",
  headers: request.headers,
  remoteAddress: request.socket.remoteAddress,
  protocol: ws.protocol
})

/** @internal */
export const attach = <E, R>(
  server: Http.Server | Https.Server,
  options: NodeServer.ServerOptions,
  handler: (channel: ByteChannel.ByteChannel, info: NodeServer.ConnectionInfo) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    // One fiber per connection: interrupted (1001) when the scope closes, gone when it ends.
    const connections = yield* makeConnections<Exclude<R, Scope.Scope>>()
    const supported = options.protocols
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD,
      perMessageDeflate: options.perMessageDeflate ?? false,
      // Pongs are sent by the transport, which bounds them (see wsTransport).
      autoPong: false,
      // ws 8.23 takes closeTimeout; its type declarations do not list it yet.
      ...{ closeTimeout: closeTimeoutMillis(options) },
      ...(supported === undefined ? {} : {
        handleProtocols: (offered: Set<string>) => supported.find((p) => offered.has(p)) ?? false
      })
    })
    const pending = makePending(
      handshakeTimeoutMillis(options),
      options.maxPendingHandshakes ?? constants.DEFAULT_MAX_PENDING_HANDSHAKES
    )
    let accepting = true
    // One for every connection: each one's handle holds it while it runs.
    const handleOptions = { channel: options.channel }

    const serveConnection = (ws: WebSocket, info: NodeServer.ConnectionInfo) => {
      if (options.maxConnections !== undefined && connections.count() >= options.maxConnections) {
        // ws still reads a refused socket until the close handshake ends: a bad frame from it
        // must find a listener (an "error" without one would throw out of ws).
        ws.on("error", ignore)
        ws.close(CloseCode.TryAgainLater, "too many connections")
        return
      }
      const serveOn = (socket: MessageSocket.MessageSocket) =>
        ByteChannel.handle(socket, (channel) => handler(channel, info), handleOptions)
      connections.serve(
        // The path only: a query may carry a secret (?token=...), and spans end up in traces.
        { "url.path": info.url.split("?", 1)[0]!, "client.address": info.remoteAddress ?? "" },
        ws,
        wsPeers,
        options.pingInterval === undefined
          ? Effect.flatMap(fromWebSocketOwned(ws, options), serveOn)
          : Effect.scoped(Effect.flatMap(fromWebSocket(ws, options), serveOn))
      )
    }

    const accept = (request: Http.IncomingMessage, socket: Duplex, head: Buffer) =>
      wss.handleUpgrade(request, socket, head, (ws) => {
        pending.done(socket)
        if (!accepting) return ws.terminate()
        serveConnection(ws, connectionInfo(ws, request))
      })

    const onUpgrade = guard((request: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // node:http removed its own listener on "upgrade": a reset while we decide (verifyClient)
      // must find one, or it throws out of the socket.
      socket.on("error", ignore)
      if (!accepting) return refuse(socket, 503, "Service Unavailable")
      if (!pending.add(socket, () => refuse(socket, 408, "Request Timeout"))) return refuse(socket, 503, "Service Unavailable")
      const pathname = pathOf(request.url)
      if (pathname === undefined) return refuse(socket, 400, "Bad Request")
      if (options.path !== undefined && pathname !== options.path) return refuse(socket, 404, "Not Found")
      const origin = request.headers.origin
      if (options.allowOrigins !== undefined && (origin === undefined || !options.allowOrigins.includes(origin))) {
        return refuse(socket, 403, "Forbidden")
      }
      if (options.verifyClient === undefined) return accept(request, socket, head)
      Promise.resolve()
        .then(() => options.verifyClient!(request))
        .then(
          (ok) => {
            if (socket.destroyed) return
            if (ok) accept(request, socket, head)
            else refuse(socket, 401, "Unauthorized")
          },
          () => refuse(socket, 500, "Internal Server Error")
        )
        .catch(() => refuse(socket, 500, "Internal Server Error"))
    }, (_request, socket) => refuse(socket, 500, "Internal Server Error"))

    // Both server types emit "upgrade" alike; the union's overloads confuse the checker.
    const emitter = server as Http.Server
    emitter.on("upgrade", onUpgrade)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        accepting = false
        emitter.off("upgrade", onUpgrade)
        pending.closeAll()
        wss.close()
      })
    )
    return { connections: connections.count, pending }
  })

const listen = (server: Net.Server, options: { readonly host?: string | undefined; readonly port?: number | undefined; readonly backlog?: number | undefined }) =>
  Effect.callback<{ readonly host: string; readonly port: number }, SocketError.SocketError>((resume) => {
    const host = options.host ?? constants.DEFAULT_HOST
    const port = options.port ?? 0
    const onError = (error: Error & { code?: string }) =>
      resume(Effect.fail(
        new SocketError.SocketError({
          reason: "Open",
          cause: error,
          detail: error.code === "EADDRINUSE" ? `${host}:${port} is already in use` : error.message
        })
      ))
    server.once("error", onError)
    server.listen({ port, host, backlog: options.backlog ?? constants.DEFAULT_LISTEN_BACKLOG }, () => {
      server.off("error", onError)
      const address = server.address() as Net.AddressInfo
      resume(Effect.succeed({ host: address.address, port: address.port }))
    })
  })

const closeServer = (server: Net.Server) =>
  Effect.callback<void>((resume) => {
    server.close(() => resume(Effect.void))
    ;(server as Http.Server).closeAllConnections?.()
  })

const formatHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

/** @internal */
export const serve = <E, R>(
  options: NodeServer.ServeOptions,
  handler: (channel: ByteChannel.ByteChannel, info: NodeServer.ConnectionInfo) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const handshakeTimeout = handshakeTimeoutMillis(options)
    const server = Http.createServer(
      // Node's own bounds on a request head and body, as a second line behind ours.
      { headersTimeout: handshakeTimeout, requestTimeout: handshakeTimeout },
      guard(
        options.onRequest ??
          ((_request, response) => {
            response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" })
            response.end("This endpoint speaks WebSocket.\n")
          }),
        (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
          if (!response.headersSent) response.writeHead(500)
          response.end()
        }
      )
    )
    // Finalizers run in reverse: connections close (1001) first, then the listener.
    yield* Effect.addFinalizer(() => server.listening ? closeServer(server) : Effect.void)
    const attached = yield* attach(server, options, handler)
    // This server is ours: the handshake deadline starts at the TCP connection, and sockets
    // that have not upgraded are bounded in number. A plain HTTP request ends the deadline.
    server.on(
      "connection",
      guard((socket: Net.Socket) => {
        if (!attached.pending.add(socket, () => socket.destroy())) socket.destroy()
      }, (socket) => socket.destroy())
    )
    server.on("request", (request: Http.IncomingMessage) => attached.pending.done(request.socket))
    const address = yield* listen(server, options)
    return {
      host: address.host,
      port: address.port,
      url: `ws://${formatHost(address.host)}:${address.port}${options.path ?? ""}`,
      connections: attached.connections
    }
  })

/** @internal */
export const layer = <E, R>(
  options: NodeServer.ServeOptions,
  handler: (channel: ByteChannel.ByteChannel, info: NodeServer.ConnectionInfo) => Effect.Effect<void, E, R>
) => Layer.effectDiscard(serve(options, handler))

/** @internal */
export const layerServer: Layer.Layer<Server.Server> = Layer.succeed(Server.Server, Server.Server.of({ serve }))

/** @internal */
export const serveTcp = <E, R>(
  options: NodeServer.ServeTcpOptions,
  handler: (channel: ByteChannel.ByteChannel, info: { readonly remoteAddress: string | undefined }) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    let server: Net.Server | undefined
    // Finalizers run in reverse: connections close (1001) first, then the listener (whose
    // close waits for every connection).
    yield* Effect.addFinalizer(() => server?.listening ? closeServer(server) : Effect.void)
    const connections = yield* makeConnections<Exclude<R, Scope.Scope>>()
    // Runs first on close: a connection that arrives while the others close is dropped at once
    // (nobody would serve it, and the listener's close would wait for it).
    let accepting = true
    yield* Effect.addFinalizer(() => Effect.sync(() => (accepting = false)))
    const serveConnection = (connection: Net.Socket) => {
      const remoteAddress = connection.remoteAddress
      connections.serve(
        { "network.transport": "tcp", "client.address": remoteAddress ?? "" },
        connection,
        tcpPeers,
        Effect.scoped(Effect.flatMap(
          fromNetSocket(connection, options),
          (socket) =>
            ByteChannel.handle(socket, (channel) => handler(channel, { remoteAddress }), {
              channel: options.channel
            })
        ))
      )
    }
    server = Net.createServer(
      { allowHalfOpen: true, noDelay: true },
      guard(
        (connection: Net.Socket) => {
          if (accepting) serveConnection(connection)
          else connection.resetAndDestroy()
        },
        (connection) => connection.destroy()
      )
    )
    const address = yield* listen(server, options)
    return {
      host: address.host,
      port: address.port,
      url: `tcp://${formatHost(address.host)}:${address.port}`,
      connections: connections.count
    }
  })
