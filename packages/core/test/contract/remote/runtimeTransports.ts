/**
 * The contract runs every runtime's server shares (Bun, Deno): its `Server.serve` as the subject
 * against a plain `ws` client in the Node peer host and against core's WebSocketConnector on the
 * runtime's own WebSocket, and that connector as the client subject against a plain `ws` server in
 * the host and against the runtime's server. A server handler hands its channel to the test and
 * holds the connection until the test releases it (the handler returns: 1000) or it closes.
 */
import { type ByteChannel, type MessageSocket, type Server, WebSocketConnector } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { socketPeer } from "../socketPeer.js"
import type { Capabilities, Connection, ContractTransport } from "../suite.js"
import { remoteClientPeer, remotePeer } from "./remotePeer.js"

/** A WHATWG WebSocket client: cannot pause (bounded by the fail policy), protocol codes in the reason. */
export const WHATWG: Capabilities = { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "in-reason" }

const handOver = Effect.gen(function*() {
  const accepted = yield* Deferred.make<ByteChannel.ByteChannel>()
  const released = yield* Deferred.make<void>()
  const handler = (channel: ByteChannel.ByteChannel) =>
    Effect.andThen(Deferred.succeed(accepted, channel), Effect.asVoid(Effect.raceFirst(Deferred.await(released), channel.closed)))
  return { handler, accepted: Deferred.await(accepted), release: Deferred.succeed(released, undefined).pipe(Effect.asVoid) }
})

/** The client subject in a scope of its own, closed by `release` (or with the case's scope). */
const clientSubject = (bounds: MessageSocket.SocketOptions, url: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    const subject = yield* WebSocketConnector.make(bounds).connect(url).pipe(Scope.provide(scope))
    return { subject, release: Scope.close(scope, Exit.void) }
  })

/** WebSocketConnector (the runtime's WebSocket) ↔ a plain `ws` server end in the Node peer host. */
export const connectorToNodeServer = (host: string): ContractTransport["connect"] => (bounds) =>
  Effect.gen(function*() {
    const remote = yield* remotePeer(host)
    const { release, subject } = yield* clientSubject(bounds, remote.url)
    yield* remote.attached
    return { subject, peer: remote.peer, release } satisfies Connection
  })

/** The connector's handshake against the host's TCP port that never answers. */
export const connectorOpenSilent = (silent: string): NonNullable<ContractTransport["openSilent"]> => (openTimeout) =>
  WebSocketConnector.make({ openTimeout }).connect(`${silent}/`)

/** The runs of one runtime's server. */
export interface ServerTransports {
  readonly toNodeClient: (host: string) => ContractTransport["connect"]
  readonly toConnector: ContractTransport["connect"]
  readonly connectorToServer: ContractTransport["connect"]
}

/** The runs of one runtime's server, given its `serve` (what its `layerServer` provides). */
export const serverTransports = (serve: Server.Server["Service"]["serve"]): ServerTransports => ({
  /** The server ↔ a plain `ws` client in the Node peer host (`host` is its ws:// base). */
  toNodeClient: (host: string): ContractTransport["connect"] => (bounds) =>
    Effect.gen(function*() {
      const server = yield* handOver
      const { url } = yield* serve({ port: 0, ...bounds }, server.handler)
      const remote = yield* remoteClientPeer(host, url)
      yield* remote.attached
      return { subject: (yield* server.accepted).socket, peer: remote.peer, release: server.release } satisfies Connection
    }),
  /** The server ↔ core's WebSocketConnector on the runtime's own WebSocket (ours on both ends). */
  toConnector: (bounds: MessageSocket.SocketOptions) =>
    Effect.gen(function*() {
      const server = yield* handOver
      const { url } = yield* serve({ port: 0, ...bounds }, server.handler)
      const client = yield* WebSocketConnector.make().connect(url)
      const subject = (yield* server.accepted).socket
      return { subject, peer: yield* socketPeer(client), release: server.release } satisfies Connection
    }),
  /** WebSocketConnector ↔ the server: the subject is the client. */
  connectorToServer: (bounds: MessageSocket.SocketOptions) =>
    Effect.gen(function*() {
      const server = yield* handOver
      const { url } = yield* serve({ port: 0 }, server.handler)
      const { release, subject } = yield* clientSubject(bounds, url)
      const peer = yield* socketPeer((yield* server.accepted).socket)
      yield* Effect.addFinalizer(() => server.release)
      return { subject, peer, release } satisfies Connection
    })
})
