/**
 * `bytechannel serve`: a WebSocket (or `--tcp`) server whose connections are, by default, piped
 * to stdout (every client's frames, whole) while stdin goes to every client; or echoed
 * (`--echo`); or relayed to every client (`--broadcast`); or each piped to a process of its own
 * (`--exec`). Every relay is bounded and waits rather than drops: a slow reader slows whoever
 * feeds it. SIGINT or SIGTERM stops the server: every connection closes with 1001.
 *
 * @internal
 */
import type { ByteChannel, MessageSocket } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as constants from "./constants.js"
import { describe } from "./errors.js"
import * as Exec from "./exec.js"
import * as Framing from "./framing.js"
import { describeClose, type Outcome, type Signal } from "./outcome.js"
import * as Stats from "./stats.js"
import * as Stdio from "./stdio.js"

/** @internal */
export type Behaviour =
  | { readonly _tag: "Stdio" }
  | { readonly _tag: "Echo" }
  | { readonly _tag: "Broadcast" }
  | { readonly _tag: "Exec"; readonly command: string }

/** @internal */
export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly path: string | undefined
  readonly tcp: boolean
  readonly behaviour: Behaviour
  readonly mode: Framing.Mode
  readonly onText: ByteChannel.TextPolicy
  readonly maxConnections: number | undefined
  readonly origins: ReadonlyArray<string>
  readonly protocols: ReadonlyArray<string>
  readonly ping: Duration.Duration | undefined
  readonly maxFrame: number | undefined
  readonly stats: boolean
}

/** @internal */
export interface Connection {
  readonly id: number
  readonly remoteAddress: string | undefined
  readonly url: string | undefined
  readonly protocol: string
}

/** Serves one connection; `ready` reports it open, once it is (broadcast: subscribed). */
type Handler = (
  channel: ByteChannel.ByteChannel,
  connection: Connection,
  ready: Effect.Effect<void>
) => Effect.Effect<void, unknown, Scope.Scope>

const send = (channel: ByteChannel.ByteChannel) => (messages: ReadonlyArray<MessageSocket.Message>) =>
  Framing.sendAll(channel, messages)

/** Every message (or frame) straight back to its sender. */
const echo = (mode: Framing.Mode): Handler => (channel, _, ready) =>
  Effect.andThen(ready, mode.relay(channel).pipe(Stream.runForEachArray(send(channel))))

/**
 * Messages published to `hub` go to this client, through a subscription of its own (the hub
 * holds at most `BROADCAST_CAPACITY` messages for the slowest subscriber; publishers wait).
 */
const subscribe = (channel: ByteChannel.ByteChannel, hub: PubSub.PubSub<MessageSocket.Message>) =>
  Effect.gen(function*() {
    const subscription = yield* PubSub.subscribe(hub)
    yield* Effect.forkScoped(Effect.ignore(Stream.fromSubscription(subscription).pipe(Stream.runForEachArray(send(channel)))))
  })

/** Every client's messages (or frames) to every client, the sender included. */
const broadcast = (mode: Framing.Mode) =>
  Effect.map(PubSub.bounded<MessageSocket.Message>(constants.BROADCAST_CAPACITY), (hub): Handler => (channel, _, ready) =>
    subscribe(channel, hub).pipe(
      Effect.andThen(ready),
      Effect.andThen(mode.relay(channel).pipe(Stream.runForEachArray((messages) => PubSub.publishAll(hub, messages))))
    ))

/**
 * The clients stdin goes to, in the default mode: a gate open while at least one is connected.
 * Plain counting, no Effect: it is asked at every chunk of stdin.
 */
interface Audience extends Stdio.Gate {
  /** Completes once a client is connected: at once when one is. */
  readonly present: Effect.Effect<void>
  readonly join: () => void
  readonly leave: () => void
}

const makeAudience = (): Audience => {
  let clients = 0
  const waiters = new Set<() => void>()
  const isOpen = () => clients > 0
  const onOpen = (f: () => void) => {
    waiters.add(f)
    return () => void waiters.delete(f)
  }
  return {
    isOpen,
    onOpen,
    present: Effect.callback<void>((resume) => {
      if (isOpen()) return resume(Effect.void)
      const stop = onOpen(() => {
        stop()
        resume(Effect.void)
      })
      return Effect.sync(stop)
    }),
    join: () => {
      if (clients++ === 0) for (const waiter of [...waiters]) waiter()
    },
    leave: () => {
      clients--
    }
  }
}

/**
 * Every client's bytes (or whole frames) to stdout; stdin to every client. stdin is read only
 * while a client is connected: while none is, nothing is taken from it (what is typed waits in
 * the pipe), and a frame read as the last one left is kept for the next, so nothing typed
 * between clients is lost.
 */
const stdio = (mode: Framing.Mode) =>
  Effect.gen(function*() {
    const out = Stdio.stdout()
    yield* Effect.addFinalizer(() => Effect.ignore(out.flush))
    const hub = yield* PubSub.bounded<MessageSocket.Message>(constants.BROADCAST_CAPACITY)
    const audience = makeAudience()
    yield* mode.outgoing(Stdio.stdinWhen(audience)).pipe(
      // Published only while a client is subscribed: with none, the hub would drop them.
      Stream.runForEachArray((messages) => Effect.andThen(audience.present, PubSub.publishAll(hub, messages))),
      Effect.catch((error) => Stdio.report(`error: ${describe(error)}; stdin is no longer read`)),
      Effect.forkScoped
    )
    const handler: Handler = (channel, _, ready) =>
      Effect.gen(function*() {
        yield* subscribe(channel, hub)
        yield* ready
        // Joins once subscribed; leaves (on the scope's close) before unsubscribing.
        yield* Effect.acquireRelease(Effect.sync(audience.join), () => Effect.sync(audience.leave))
        yield* mode.incoming(channel).pipe(Stream.runForEachArray(out.write))
      })
    return handler
  })

const makeHandler = (options: ServeOptions): Effect.Effect<Handler, never, Scope.Scope> => {
  switch (options.behaviour._tag) {
    case "Stdio":
      return stdio(options.mode)
    case "Echo":
      return Effect.succeed(echo(options.mode))
    case "Broadcast":
      return broadcast(options.mode)
    case "Exec":
      return Effect.succeed(Exec.handler(options.behaviour.command, options.mode))
  }
}

/** Numbers connections and reports their opening, their close and what failed them; `open` holds them while they are served. */
const reported = (handler: Handler, open: Set<ByteChannel.ByteChannel>) => {
  let count = 0
  return (channel: ByteChannel.ByteChannel, info: Omit<Connection, "id" | "protocol"> & { readonly protocol?: string }) =>
    Effect.gen(function*() {
      open.add(channel)
      yield* Effect.addFinalizer(() => Effect.sync(() => open.delete(channel)))
      const connection: Connection = { ...info, protocol: info.protocol ?? "", id: ++count }
      const ready = Stdio.info(
        `#${connection.id} open from ${connection.remoteAddress ?? "?"}${connection.url === undefined ? "" : ` ${connection.url}`}${
          connection.protocol === "" ? "" : ` (protocol ${JSON.stringify(connection.protocol)})`
        }`
      )
      yield* Effect.forkDetach(Effect.flatMap(channel.closed, (closed) => Stdio.info(`#${connection.id} ${describeClose(closed)}`)))
      yield* handler(channel, connection, ready).pipe(
        Effect.tapError((error) =>
          // How the peer closed is told by the close line; anything else is reported here.
          typeof error === "object" && error !== null && "_tag" in error && error._tag === "SocketError"
            ? Effect.void
            : Stdio.report(`#${connection.id} error: ${describe(error)}`)
        ),
        Effect.scoped
      )
    })
}

/** Serves until a signal arrives (or the port cannot be had). */
export const run = (options: ServeOptions, signal: Effect.Effect<Signal>): Effect.Effect<Outcome, never, Scope.Scope> =>
  Effect.gen(function*() {
    const open = new Set<ByteChannel.ByteChannel>()
    const handler = reported(yield* makeHandler(options), open)
    const channel = Framing.channelOptions(options.onText)
    const started = yield* Effect.result(
      options.tcp
        ? NodeServer.serveTcp({ host: options.host, port: options.port, channel }, (ch, info) =>
          handler(ch, { remoteAddress: info.remoteAddress, url: undefined }))
        : NodeServer.serve({
          host: options.host,
          port: options.port,
          path: options.path,
          maxConnections: options.maxConnections,
          allowOrigins: options.origins.length > 0 ? options.origins : undefined,
          protocols: options.protocols.length > 0 ? options.protocols : undefined,
          pingInterval: options.ping,
          maxPayload: Framing.maxPayload(options.maxFrame),
          channel
        }, handler)
    )
    if (started._tag === "Failure") return { error: started.failure }
    const server = started.success
    // Always reported, even with --quiet: a client needs it (with --port 0, the port is the OS's choice).
    yield* Stdio.report(`listening on ${server.url}`)
    if (options.stats) yield* Stats.track
    const received = yield* signal
    yield* Stdio.info(`${received}: stopping${open.size > 0 ? `; ${open.size} connection${open.size === 1 ? "" : "s"} close with 1001` : ""}`)
    if (options.tcp) {
      // NodeServer.serveTcp closes its listener (waiting for every connection to end) before it
      // closes the connections, so its scope would never close while one is open: close them here.
      yield* Effect.forEach(open, (ch) => Effect.ignore(ch.socket.closeWithProtocolCode({ code: 1001, reason: "server shutting down" })), {
        concurrency: "unbounded",
        discard: true
      })
    }
    return { signal: received }
  })
