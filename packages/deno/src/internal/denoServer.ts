import { ByteChannel, CloseCode, type MessageSocket, Server, SocketError, WebSocketTransport } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as DenoServer from "../DenoServer.js"
import * as constants from "./constants.js"
import { denoApi, drop, type HttpServer, type ServeHandlerInfo } from "./deno.js"

const refuse = (status: number, body: string | null = null, headers?: Record<string, string>) =>
  new Response(body, { status, headers: { connection: "close", ...headers } })

const millis = (input: Duration.Input) => Math.min(Duration.toMillis(Duration.fromInputUnsafe(input)), constants.MAX_TIMER_MILLIS)

/**
 * The first of the server's subprotocols, in its order, that the client offers; without
 * `protocols`, the client's first offer, as on Node (ws) and Bun (a browser that offers one
 * fails the connection when none is answered). `undefined`: none.
 */
const selectProtocol = (supported: ReadonlyArray<string> | undefined, offered: string | null) => {
  if (offered === null) return undefined
  const offers = offered.split(",").map((p) => p.trim()).filter((p) => p !== "")
  return supported === undefined ? offers[0] : supported.find((p) => offers.includes(p))
}

const headersOf = (headers: Headers): Record<string, string> => {
  const record: Record<string, string> = {}
  headers.forEach((value, name) => (record[name] = value))
  return record
}

/** A Sec-WebSocket-Key: 16 bytes in base64. */
const VALID_KEY = /^[+/0-9A-Za-z]{22}==$/

const formatHost = (host: string) => (host.includes(":") ? `[${host}]` : host)

const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i

/**
 * The request target as the client wrote it: Deno's `request.url` is `scheme://host` and the
 * target, dot segments and all (a `URL` would resolve them: `/x/../chat` would be `/chat`).
 */
const targetOf = (url: string) => {
  const target = url.replace(AUTHORITY, "")
  return target === "" ? "/" : target
}

/** The path of a target exactly as written, as on Node: `/x/../chat` and `/chat\` are not `/chat`. */
const pathOf = (target: string) => {
  const end = target.search(/[?#]/)
  const path = end === -1 ? target : target.slice(0, end)
  return path === "" ? "/" : path
}

/**
 * A socket whose fiber ended before it was served (its handshake deadline passed): Deno
 * completes the upgrade and opens it even after `close()`, and nobody would own it. Once open
 * it is closed (1001) and dropped after the close timeout. Not dropped at once: closing Deno's
 * resource before the 101 is out can leave the TCP connection held, unanswered (Deno 2.9.6).
 */
const closeUnowned = (ws: WebSocket, closeTimeout: number) => {
  const close = () => {
    const timer = setTimeout(() => drop(ws), closeTimeout)
    ws.addEventListener("close", () => clearTimeout(timer), { once: true })
    try {
      ws.close(CloseCode.GoingAway, "handshake timeout")
    } catch {
      drop(ws)
    }
  }
  if (ws.readyState === WebSocket.OPEN) close()
  else if (ws.readyState !== WebSocket.CLOSED) ws.addEventListener("open", close, { once: true })
}

/** @internal */
export const serve = <E, R>(
  options: DenoServer.ServeOptions,
  handler: Server.Handler<E, R>
): Effect.Effect<DenoServer.RunningServer, SocketError.SocketError, Scope.Scope | Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const deno = denoApi()
    if (deno === undefined) {
      return yield* new SocketError.SocketError({ reason: "Open", detail: "DenoServer runs on Deno: this runtime has no Deno.serve" })
    }
    const host = options.host ?? constants.DEFAULT_HOST
    const port = options.port ?? 0
    // Deno reads a message whole before handing it over, and stops by itself at 64 MiB.
    const maxPayload = Math.min(options.maxPayload ?? constants.DEFAULT_MAX_PAYLOAD, constants.DENO_MAX_MESSAGE_SIZE)
    const handshakeTimeout = millis(options.handshakeTimeout ?? constants.DEFAULT_HANDSHAKE_TIMEOUT_MILLIS)
    const closeTimeout = millis(options.closeTimeout ?? constants.DEFAULT_CLOSE_TIMEOUT_MILLIS)
    // Deno's keepalive (no ping API in JS): a ping after half its idle timeout with no frame from
    // the peer, a drop after the other half. Half each: the ping at (interval + timeout) / 2.
    const pongTimeout = options.pongTimeout ?? options.pingInterval
    const keepaliveMillis = options.pingInterval === undefined ? 0 : millis(options.pingInterval) + millis(pongTimeout!)
    const idleTimeout = keepaliveMillis / 1000
    // Deno's ping waits behind unsent data: a peer that reads nothing while we have data for it
    // never gets it, and its keepalive never ends. On Node that peer is dropped at the pong
    // deadline; here the send stall ends it within the same time (unless given its own timeout).
    const sendStallTimeout = options.sendStallTimeout ??
      (keepaliveMillis === 0 ? undefined : Math.min(keepaliveMillis, constants.DEFAULT_SEND_STALL_TIMEOUT_MILLIS))

    const abort = new AbortController()
    let server: HttpServer | undefined
    // Finalizers run in reverse: connections close (1001) first, then the listener.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        abort.abort()
        const finished = server?.finished
        return finished === undefined ? Effect.void : Effect.promise(() => finished.catch(() => {}))
      })
    )
    // One fiber per connection: interrupted (1001) when the scope closes, gone when it ends.
    const run = yield* FiberSet.makeRuntime<Exclude<R, Scope.Scope>>()
    let accepting = true
    yield* Effect.addFinalizer(() => Effect.sync(() => (accepting = false)))
    let open = 0

    const serveConnection = (ws: WebSocket, info: Server.ConnectionInfo) => {
      let admitted = false
      const admit = Effect.sync(() => {
        if (options.maxConnections !== undefined && open >= options.maxConnections) return false
        open++
        return (admitted = true)
      })
      const use = (socket: MessageSocket.MessageSocket) => (ok: boolean) =>
        ok
          ? Effect.withSpan(
            ByteChannel.handle(socket, (channel) => handler(channel, info), { channel: options.channel }),
            "bytechannel.server.connection",
            {
              kind: "server",
              captureStackTrace: false,
              attributes: { "url.path": info.url.split("?", 1)[0]!, "client.address": info.remoteAddress ?? "" }
            }
          )
          : Effect.ignore(socket.closeWithProtocolCode({ code: CloseCode.TryAgainLater, reason: "too many connections" }))
      const release = (ok: boolean) => Effect.sync(() => ok && open--)
      // The socket opens within the handshake deadline (a client that never completes the upgrade
      // is dropped); then the connection is counted, served, and given back, whatever interrupts it.
      // The fiber starts at once, so the socket's listeners are on it before it can receive.
      const connection = WebSocketTransport.fromWebSocket(ws, {
        ...options,
        maxPayload,
        openTimeout: handshakeTimeout,
        sendStallTimeout,
        closeCodes: "as-is",
        terminate: () => drop(ws)
      }).pipe(
        Effect.flatMap((socket) => Effect.acquireUseRelease(admit, use(socket), release)),
        Effect.scoped,
        Effect.catchCause((cause) =>
          admitted
            ? Effect.logWarning("bytechannel: could not serve a connection", cause)
            : Effect.logDebug("bytechannel: an upgrade did not complete", cause)
        ),
        Effect.ensuring(Effect.sync(() => admitted || closeUnowned(ws, closeTimeout)))
      )
      run(connection as Effect.Effect<void, never, Exclude<R, Scope.Scope>>)
    }

    const onRequest = (request: Request, connection: ServeHandlerInfo): Response => {
      if (!accepting) return refuse(503)
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return refuse(426, constants.UPGRADE_REQUIRED_BODY, { "content-type": "text/plain", upgrade: "websocket" })
      }
      // Deno upgrades any method, version and key: the handshake is checked here (RFC 6455 4.2.1).
      if (request.method !== "GET") return refuse(405, null, { allow: "GET" })
      if (request.headers.get("sec-websocket-version") !== "13" || !VALID_KEY.test(request.headers.get("sec-websocket-key") ?? "")) {
        return refuse(400)
      }
      const target = targetOf(request.url)
      if (options.path !== undefined && pathOf(target) !== options.path) return refuse(404)
      const origin = request.headers.get("origin")
      if (options.allowOrigins !== undefined && (origin === null || !options.allowOrigins.includes(origin))) return refuse(403)
      const protocol = selectProtocol(options.protocols, request.headers.get("sec-websocket-protocol"))
      // Read before the upgrade: Deno closes the request once it is upgraded.
      const info: Server.ConnectionInfo = {
        url: target,
        headers: headersOf(request.headers),
        remoteAddress: connection.remoteAddr.hostname,
        protocol: protocol ?? ""
      }
      let upgrade: ReturnType<typeof deno.upgradeWebSocket>
      try {
        upgrade = deno.upgradeWebSocket(request, protocol === undefined ? { idleTimeout } : { protocol, idleTimeout })
      } catch {
        // Not a valid upgrade (a missing key, a wrong version).
        return refuse(400)
      }
      serveConnection(upgrade.socket, info)
      return upgrade.response
    }

    const listening = Deferred.makeUnsafe<{ readonly host: string; readonly port: number }>()
    yield* Effect.try({
      try: () => {
        server = deno.serve({
          hostname: host,
          port,
          signal: abort.signal,
          onListen: (addr) => Deferred.doneUnsafe(listening, Effect.succeed({ host: addr.hostname, port: addr.port })),
          // A handler never throws; this answers anything Deno itself could not.
          onError: () => refuse(500),
          handler: (request, connection) => {
            try {
              return onRequest(request, connection)
            } catch {
              return refuse(500)
            }
          }
        })
      },
      catch: (cause) => {
        const name = (cause as { readonly name?: unknown })?.name
        return new SocketError.SocketError({
          reason: "Open",
          cause,
          detail: name === "AddrInUse" ? `${host}:${port} is already in use` : cause instanceof Error ? cause.message : String(cause)
        })
      }
    })
    const address = yield* Deferred.await(listening)
    return {
      host: address.host,
      port: address.port,
      url: `ws://${formatHost(address.host)}:${address.port}${options.path ?? ""}`,
      connections: () => open
    }
  })

/** @internal */
export const layer = <E, R>(options: DenoServer.ServeOptions, handler: Server.Handler<E, R>) =>
  Layer.effectDiscard(serve(options, handler))

/** @internal */
export const layerServer: Layer.Layer<Server.Server> = Layer.succeed(Server.Server, Server.Server.of({ serve }))
