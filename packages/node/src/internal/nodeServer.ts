import { ByteChannel, SocketError } from "@bytechannel/core"
import type { MessageSocket } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Https from "node:https"
import * as Net from "node:net"
import type { Duplex } from "node:stream"
import { WebSocketServer } from "ws"
import type * as NodeServer from "../NodeServer.js"
import * as constants from "./constants.js"
import { fromNetSocket } from "./tcpTransport.js"
import { fromWebSocket } from "./wsTransport.js"

const refuse = (socket: Duplex, status: number, message: string) => {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  }
  socket.destroy()
}

/** @internal */
export const attach = <E, R>(
  server: Http.Server | Https.Server,
  options: NodeServer.ServerOptions,
  handler: (channel: ByteChannel.ByteChannel, info: NodeServer.ConnectionInfo) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const runtime = yield* Effect.runtime<Exclude<R, Scope.Scope>>()
    const runFork = Runtime.runFork(runtime)
    const supported = options.protocols
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD,
      perMessageDeflate: options.perMessageDeflate ?? false,
      ...(supported === undefined ? {} : {
        handleProtocols: (offered: Set<string>) => supported.find((p) => offered.has(p)) ?? false
      })
    })
    let open = 0
    let accepting = true

    const serveConnection = (ws: import("ws").WebSocket, request: Http.IncomingMessage) =>
      Effect.gen(function*() {
        if (options.maxConnections !== undefined && open >= options.maxConnections) {
          ws.close(constants.CLOSE_TRY_AGAIN_LATER, "too many connections")
          return
        }
        open++
        const connectionScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
        const span = yield* Effect.makeSpanScoped("bytechannel.server.connection", {
          kind: "server",
          attributes: { "url.path": request.url ?? "/", "client.address": request.socket.remoteAddress ?? "" }
        }).pipe(Scope.extend(connectionScope))
        const socket = yield* fromWebSocket(ws, options).pipe(Scope.extend(connectionScope))
        yield* Effect.forkIn(Effect.zipRight(socket.closed, Effect.sync(() => open--)), connectionScope)
        const info: NodeServer.ConnectionInfo = {
          url: request.url ?? "/",
          headers: request.headers,
          remoteAddress: request.socket.remoteAddress,
          protocol: ws.protocol
        }
        yield* ByteChannel.handle(socket, (channel) => handler(channel, info), {
          parent: connectionScope,
          channel: options.channel
        }).pipe(Effect.withParentSpan(span))
      })

    const onUpgrade = (request: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!accepting) return refuse(socket, 503, "Service Unavailable")
      const pathname = new URL(request.url ?? "/", "http://localhost").pathname
      if (options.path !== undefined && pathname !== options.path) return refuse(socket, 404, "Not Found")
      const origin = request.headers.origin
      if (options.allowOrigins !== undefined && (origin === undefined || !options.allowOrigins.includes(origin))) {
        return refuse(socket, 403, "Forbidden")
      }
      const accept = () =>
        wss.handleUpgrade(request, socket, head, (ws) => {
          const serving: Effect.Effect<void, never, Exclude<R, Scope.Scope>> = serveConnection(ws, request).pipe(
            Effect.catchAllCause((cause) => Effect.logWarning("bytechannel: could not serve a connection", cause))
          )
          runFork(serving)
        })
      if (options.verifyClient === undefined) return accept()
      Promise.resolve()
        .then(() => options.verifyClient!(request))
        .then(
          (ok) => (ok ? accept() : refuse(socket, 401, "Unauthorized")),
          () => refuse(socket, 500, "Internal Server Error")
        )
    }

    // Both server types emit "upgrade" alike; the union's overloads confuse the checker.
    const emitter = server as Http.Server
    emitter.on("upgrade", onUpgrade)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        accepting = false
        emitter.off("upgrade", onUpgrade)
        wss.close()
      })
    )
    return { connections: () => open }
  })

const listen = (server: Net.Server, host: string, port: number) =>
  Effect.async<{ readonly host: string; readonly port: number }, SocketError.SocketError>((resume) => {
    const onError = (error: Error & { code?: string }) =>
      resume(Effect.fail(
        new SocketError.SocketError({
          reason: "Open",
          cause: error,
          detail: error.code === "EADDRINUSE" ? `${host}:${port} is already in use` : error.message
        })
      ))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      const address = server.address() as Net.AddressInfo
      resume(Effect.succeed({ host: address.address, port: address.port }))
    })
  })

const closeServer = (server: Net.Server) =>
  Effect.async<void>((resume) => {
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
    const server = Http.createServer(
      options.onRequest ??
        ((_request, response) => {
          response.writeHead(426, { "content-type": "text/plain", upgrade: "websocket" })
          response.end("This endpoint speaks WebSocket.\n")
        })
    )
    // Finalizers run in reverse: connections close (1001) first, then the listener.
    yield* Effect.addFinalizer(() => server.listening ? closeServer(server) : Effect.void)
    const attached = yield* attach(server, options, handler)
    const address = yield* listen(server, options.host ?? constants.DEFAULT_HOST, options.port ?? 0)
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
) => Layer.scopedDiscard(serve(options, handler))

/** @internal */
export const serveTcp = <E, R>(
  options: {
    readonly host?: string | undefined
    readonly port?: number | undefined
    readonly channel?: ByteChannel.ByteChannelOptions | undefined
  } & MessageSocket.ControllerOptions,
  handler: (channel: ByteChannel.ByteChannel, info: { readonly remoteAddress: string | undefined }) => Effect.Effect<void, E, R>
) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const runtime = yield* Effect.runtime<Exclude<R, Scope.Scope>>()
    const runFork = Runtime.runFork(runtime)
    let open = 0
    const server = Net.createServer({ allowHalfOpen: true, noDelay: true }, (connection) => {
      runFork(
        Effect.gen(function*() {
          open++
          const connectionScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
          const socket = yield* fromNetSocket(connection, options).pipe(Scope.extend(connectionScope))
          yield* Effect.forkIn(Effect.zipRight(socket.closed, Effect.sync(() => open--)), connectionScope)
          yield* ByteChannel.handle(socket, (channel) => handler(channel, { remoteAddress: connection.remoteAddress }), {
            parent: connectionScope,
            channel: options.channel
          })
        }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("bytechannel: could not serve a connection", cause)))
      )
    })
    yield* Effect.addFinalizer(() => server.listening ? closeServer(server) : Effect.void)
    const address = yield* listen(server, options.host ?? constants.DEFAULT_HOST, options.port ?? 0)
    return {
      host: address.host,
      port: address.port,
      url: `tcp://${formatHost(address.host)}:${address.port}`,
      connections: () => open
    }
  })
