/**
 * The Node transports as the contract suite runs them: each is a subject (the side under test)
 * connected to a peer, either ours (the other end of a connection that is ours on both sides)
 * or a plain `ws` / `node:net` socket.
 */
import { type ByteChannel, type MessageSocket } from "@bytechannel/core"
import * as EffectSocket from "@bytechannel/core/EffectSocket"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { createServer } from "node:http"
import type * as Net from "node:net"
import { socketPeer } from "../../../core/test/contract/socketPeer.js"
import type { Capabilities, Connection, ContractTransport } from "../../../core/test/contract/suite.js"
import { rawServer } from "../fixtures.js"
import { netPeer, rawNetClient, rawNetServer, rawWsClient, wsPeer } from "./rawPeers.js"

type Connect = ContractTransport["connect"]

export const WEBSOCKET: Capabilities = { messages: true, receiveOverflow: "pause", sendBackpressure: true, protocolCodesOnWire: "as-is" }
export const TCP: Capabilities = { messages: false, receiveOverflow: "pause", sendBackpressure: true, protocolCodesOnWire: "as-is" }
/**
 * An effect/socket Socket (EffectSocket.fromSocket): pulled only while the receive queue has room,
 * so it pauses; its WebSocket writer does not wait for the send buffer, so no send backpressure.
 */
export const EFFECT_SOCKET: Capabilities = { messages: true, receiveOverflow: "pause", sendBackpressure: false, protocolCodesOnWire: "as-is" }

/**
 * A server handler that hands its channel to the test and holds the connection until the test
 * releases it (the handler returns: the connection closes with 1000) or it closes.
 */
const handOver = Effect.gen(function*() {
  const accepted = yield* Deferred.make<ByteChannel.ByteChannel>()
  const released = yield* Deferred.make<void>()
  const handler = (channel: ByteChannel.ByteChannel) =>
    Effect.andThen(Deferred.succeed(accepted, channel), Effect.asVoid(Effect.raceFirst(Deferred.await(released), channel.closed)))
  return { handler, accepted: Deferred.await(accepted), release: Deferred.succeed(released, undefined).pipe(Effect.asVoid) }
})

/** A client subject in a scope of its own, closed by `release` (or with the case's scope). */
const clientSubject = <E>(open: Effect.Effect<MessageSocket.MessageSocket, E, Scope.Scope>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    const subject = yield* Scope.provide(open, scope)
    return { subject, release: Scope.close(scope, Exit.void) }
  })

const nodeConnect = (bounds: MessageSocket.SocketOptions, url: string) => NodeConnector.make(bounds).connect(url)

/** ws client (NodeConnector) ↔ NodeServer: the subject is the client. */
export const wsClientToNodeServer: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* NodeServer.serve({ port: 0 }, server.handler)
    const { release, subject } = yield* clientSubject(nodeConnect(bounds, url))
    const peer = yield* socketPeer((yield* server.accepted).socket)
    return { subject, peer, release } satisfies Connection
  })

/** NodeServer ↔ ws client (NodeConnector): the subject is the server's socket. */
export const nodeServerToWsClient: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* NodeServer.serve({ port: 0, ...bounds }, server.handler)
    const client = yield* nodeConnect({}, url)
    const subject = (yield* server.accepted).socket
    return { subject, peer: yield* socketPeer(client), release: server.release } satisfies Connection
  })

/** ws client (NodeConnector) ↔ a plain `ws` server. */
export const wsClientToRawServer: Connect = (bounds) =>
  Effect.gen(function*() {
    const accepted = yield* Deferred.make<ReturnType<typeof wsPeer>>()
    const { url } = yield* rawServer((ws) => Deferred.doneUnsafe(accepted, Effect.succeed(wsPeer(ws))))
    const { release, subject } = yield* clientSubject(nodeConnect(bounds, url))
    return { subject, peer: yield* Deferred.await(accepted), release } satisfies Connection
  })

/** NodeServer ↔ a plain `ws` client. */
export const nodeServerToRawClient: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* NodeServer.serve({ port: 0, ...bounds }, server.handler)
    const peer = yield* rawWsClient(url)
    return { subject: (yield* server.accepted).socket, peer, release: server.release } satisfies Connection
  })

/** A ws client's handshake against a server that accepts TCP and never answers. */
export const wsOpenSilent = (openTimeout: Parameters<NonNullable<ContractTransport["openSilent"]>>[0]) =>
  Effect.gen(function*() {
    const silent = yield* rawNetServer((socket: Net.Socket) => socket)
    return yield* NodeConnector.make({ openTimeout }).connect(`ws://127.0.0.1:${silent.port}/`)
  })

/** tcp client (NodeConnector) ↔ serveTcp: the subject is the client. */
export const tcpClientToServeTcp: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* NodeServer.serveTcp({ port: 0 }, server.handler)
    const { release, subject } = yield* clientSubject(nodeConnect(bounds, url))
    const peer = yield* socketPeer((yield* server.accepted).socket)
    return { subject, peer, release } satisfies Connection
  })

/** serveTcp ↔ tcp client (NodeConnector): the subject is the server's socket. */
export const serveTcpToTcpClient: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* NodeServer.serveTcp({ port: 0, ...bounds }, server.handler)
    const client = yield* nodeConnect({}, url)
    return { subject: (yield* server.accepted).socket, peer: yield* socketPeer(client), release: server.release } satisfies Connection
  })

/** tcp client (NodeConnector) ↔ a plain `node:net` server. */
export const tcpClientToRawServer: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* rawNetServer(netPeer)
    const { release, subject } = yield* clientSubject(nodeConnect(bounds, `tcp://127.0.0.1:${server.port}`))
    return { subject, peer: yield* server.accepted, release } satisfies Connection
  })

/** serveTcp ↔ a plain `node:net` client. */
export const serveTcpToRawClient: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { port } = yield* NodeServer.serveTcp({ port: 0, ...bounds }, server.handler)
    const peer = yield* rawNetClient(port)
    return { subject: (yield* server.accepted).socket, peer, release: server.release } satisfies Connection
  })

/** An effect/http route (NodeHttpServer) upgrading with EffectSocket.upgrade ↔ a plain `ws` client. */
export const effectSocketToRawClient: Connect = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const context = yield* Layer.build(
      NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1", gracefulShutdownTimeout: "1 second" })
    )
    const http = Context.get(context, HttpServer.HttpServer)
    const route = HttpRouter.add("GET", "/contract", EffectSocket.upgrade(server.handler, bounds))
    yield* http.serve(yield* HttpRouter.toHttpEffect(route))
    if (http.address._tag === "UnixPathAddress") return yield* Effect.die(new Error("expected an internet address"))
    const peer = yield* rawWsClient(`ws://127.0.0.1:${http.address.port}/contract`)
    return { subject: (yield* server.accepted).socket, peer, release: server.release } satisfies Connection
  })
