/**
 * Contract peers that are not ours: a plain `ws` WebSocket (either end) and a plain `node:net`
 * socket. They read and write with no backpressure of their own, can be paused, and can hang.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"
import { WebSocket } from "ws"
import { floodMessage, type Peer, type PeerClose } from "../../../core/test/contract/suite.js"

type Received = Option.Option<string | Uint8Array>

/** What every raw peer keeps: the messages received, and how the connection ended. */
const makeInbox = () => {
  const queue = Effect.runSync(Queue.unbounded<Received>())
  const closed = Deferred.makeUnsafe<PeerClose>()
  return {
    push: (message: string | Uint8Array) => Queue.offerUnsafe(queue, Option.some(message)),
    end: (info: PeerClose) => {
      Queue.offerUnsafe(queue, Option.none())
      Deferred.doneUnsafe(closed, Effect.succeed(info))
    },
    // After the end, every later `receive` sees it too.
    receive: Effect.tap(Queue.take(queue), (next) => (Option.isNone(next) ? Queue.offer(queue, next) : Effect.void)),
    closed: Deferred.await(closed)
  }
}

/** Listens on `ws` at once (call it where the socket is made, before any message can arrive). */
export const wsPeer = (ws: WebSocket): Peer => {
  const inbox = makeInbox()
  ws.on("message", (data: Buffer, isBinary) => inbox.push(isBinary ? new Uint8Array(data) : data.toString("utf8")))
  ws.on("close", (code, reason) => inbox.end({ code, reason: reason.toString("utf8") }))
  ws.on("error", () => {}) // reported by "close" (1006)
  const open = () => ws.readyState === WebSocket.OPEN
  return {
    send: (message) => Effect.sync(() => open() && ws.send(message, { binary: typeof message !== "string" })),
    flood: (count, size) =>
      Effect.sync(() => {
        for (let i = 0; i < count && open(); i++) ws.send(floodMessage(i, size), { binary: true })
        return { held: Effect.sync(() => ws.bufferedAmount) }
      }),
    receive: inbox.receive,
    pause: Effect.sync(() => ws.pause()),
    resume: Effect.sync(() => ws.resume()),
    close: (code, reason) => Effect.sync(() => ws.close(code, reason)),
    drop: Effect.sync(() => ws.terminate()),
    // Paused, it reads nothing more: the close frame stays unread.
    hang: Effect.sync(() => ws.pause()),
    closed: inbox.closed
  }
}

/**
 * Listens on `socket` (made with `allowHalfOpen`) at once. TCP has no close codes: an orderly end
 * is 1000, anything else 1006. The peer answers the subject's FIN with its own unless it hangs.
 */
export const netPeer = (socket: Net.Socket): Peer => {
  const inbox = makeInbox()
  let failed = false
  let hung = false
  socket.on("data", (chunk: Buffer) => inbox.push(new Uint8Array(chunk)))
  socket.on("end", () => {
    if (!hung) socket.end()
  })
  socket.on("error", () => {
    failed = true
  })
  socket.on("close", (hadError) => inbox.end({ code: hadError || failed ? 1006 : 1000, reason: "" }))
  const writable = () => !socket.destroyed && socket.writable
  return {
    send: (message) =>
      Effect.sync(() => {
        if (writable()) socket.write(typeof message === "string" ? Buffer.from(message, "utf8") : message)
      }),
    flood: (count, size) =>
      Effect.sync(() => {
        for (let i = 0; i < count && writable(); i++) socket.write(floodMessage(i, size))
        return { held: Effect.sync(() => socket.writableLength) }
      }),
    receive: inbox.receive,
    pause: Effect.sync(() => socket.pause()),
    resume: Effect.sync(() => socket.resume()),
    close: () => Effect.sync(() => socket.end()),
    drop: Effect.sync(() => socket.resetAndDestroy()),
    hang: Effect.sync(() => {
      hung = true
      socket.pause()
    }),
    closed: inbox.closed
  }
}

const listen = (server: Net.Server) =>
  Effect.callback<number>((resume) => {
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as Net.AddressInfo).port)))
  })

const closeServer = (server: Net.Server) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))

/**
 * A server for one connection: `serve(onSocket)` listens on an OS-chosen port; `accepted`
 * completes with what `onSocket` made of the first connection. Everything closes with the scope.
 */
export const rawNetServer = <A>(onSocket: (socket: Net.Socket) => A) =>
  Effect.gen(function*() {
    const accepted = yield* Deferred.make<A>()
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket)
      Deferred.doneUnsafe(accepted, Effect.succeed(onSocket(socket)))
    })
    const port = yield* listen(server)
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        for (const socket of sockets) socket.destroy()
        return closeServer(server)
      })
    )
    return { port, accepted: Deferred.await(accepted) }
  })

/** A plain TCP client; destroyed with the scope. */
export const rawNetClient = (port: number): Effect.Effect<Peer, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ socket: Net.Socket; peer: Peer }, Error>((resume) => {
      const socket = Net.connect({ host: "127.0.0.1", port, allowHalfOpen: true })
      const peer = netPeer(socket)
      socket.once("connect", () => resume(Effect.succeed({ socket, peer })))
      socket.once("error", (error) => resume(Effect.fail(error)))
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  ).pipe(Effect.map(({ peer }) => peer))

/** A plain `ws` client; terminated with the scope. */
export const rawWsClient = (url: string): Effect.Effect<Peer, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ ws: WebSocket; peer: Peer }, Error>((resume) => {
      const ws = new WebSocket(url, { perMessageDeflate: false })
      const peer = wsPeer(ws)
      ws.once("open", () => resume(Effect.succeed({ ws, peer })))
      ws.once("error", (error) => resume(Effect.fail(error)))
    }),
    ({ ws }) => Effect.sync(() => ws.terminate())
  ).pipe(Effect.map(({ peer }) => peer))
