/**
 * The Deno runs of the contract suite: DenoServer as the subject (a server handler hands its
 * channel to the test and holds the connection until the test releases it, the handler returns:
 * 1000, or it closes), and core's WebSocketConnector on Deno's WebSocket as the client subject.
 */
import { type ByteChannel, type MessageSocket, WebSocketConnector } from "@bytechannel/core"
import { DenoServer } from "@bytechannel/deno"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { remoteClientPeer, remotePeer } from "../../core/test/contract/remote/remotePeer.js"
import { socketPeer } from "../../core/test/contract/socketPeer.js"
import type { Capabilities, Connection, ContractTransport } from "../../core/test/contract/suite.js"

/**
 * Deno's server WebSocket cannot pause (bounded by the fail policy, 1009); `send` waits on its
 * polled `bufferedAmount`; a server may send the protocol's codes as they are.
 */
export const DENO_SERVER: Capabilities = { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "as-is" }

/** A WHATWG WebSocket client: cannot pause (bounded by the fail policy), protocol codes in the reason. */
export const WHATWG: Capabilities = { messages: true, receiveOverflow: "fail", sendBackpressure: true, protocolCodesOnWire: "in-reason" }

export const handOver = Effect.gen(function*() {
  const accepted = yield* Deferred.make<ByteChannel.ByteChannel>()
  const released = yield* Deferred.make<void>()
  const handler = (channel: ByteChannel.ByteChannel) =>
    Effect.andThen(Deferred.succeed(accepted, channel), Effect.asVoid(Effect.raceFirst(Deferred.await(released), channel.closed)))
  return { handler, accepted: Deferred.await(accepted), release: Deferred.succeed(released, undefined).pipe(Effect.asVoid) }
})

/** DenoServer ↔ a plain `ws` client in the Node peer host (`host` is its ws:// base). */
export const denoServerToNodeClient = (host: string): ContractTransport["connect"] => (bounds: MessageSocket.SocketOptions) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* DenoServer.serve({ port: 0, ...bounds }, server.handler)
    const remote = yield* remoteClientPeer(host, url)
    yield* remote.attached
    return { subject: (yield* server.accepted).socket, peer: remote.peer, release: server.release } satisfies Connection
  })

/** DenoServer ↔ core's WebSocketConnector on Deno's own WebSocket (ours on both ends, in Deno). */
export const denoServerToConnector: ContractTransport["connect"] = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* DenoServer.serve({ port: 0, ...bounds }, server.handler)
    const client = yield* WebSocketConnector.make().connect(url)
    const subject = (yield* server.accepted).socket
    return { subject, peer: yield* socketPeer(client), release: server.release } satisfies Connection
  })

/** The client subject in a scope of its own, closed by `release` (or with the case's scope). */
const clientSubject = (bounds: MessageSocket.SocketOptions, url: string) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope, "sequential")
    const subject = yield* WebSocketConnector.make(bounds).connect(url).pipe(Scope.provide(scope))
    return { subject, release: Scope.close(scope, Exit.void) }
  })

/** WebSocketConnector (Deno's WebSocket) ↔ a plain `ws` server end in the Node peer host. */
export const connectorToNodeServer = (host: string): ContractTransport["connect"] => (bounds) =>
  Effect.gen(function*() {
    const remote = yield* remotePeer(host)
    const { release, subject } = yield* clientSubject(bounds, remote.url)
    yield* remote.attached
    return { subject, peer: remote.peer, release } satisfies Connection
  })

/** WebSocketConnector (Deno's WebSocket) ↔ DenoServer: the subject is the client. */
export const connectorToDenoServer: ContractTransport["connect"] = (bounds) =>
  Effect.gen(function*() {
    const server = yield* handOver
    const { url } = yield* DenoServer.serve({ port: 0 }, server.handler)
    const { release, subject } = yield* clientSubject(bounds, url)
    const peer = yield* socketPeer((yield* server.accepted).socket)
    yield* Effect.addFinalizer(() => server.release)
    return { subject, peer, release } satisfies Connection
  })

/** The connector's handshake against the host's TCP port that never answers. */
export const connectorOpenSilent = (silent: string): NonNullable<ContractTransport["openSilent"]> => (openTimeout) =>
  WebSocketConnector.make({ openTimeout }).connect(`${silent}/`)
