/**
 * `bytechannel connect URL`: stdin to the connection, the connection to stdout, with
 * backpressure both ways (stdin is read only as fast as the socket takes it; a slow stdout stops
 * the reading of the socket, whose receive queue then pauses the transport).
 *
 * The end: end of input closes with 1000 once everything read was handed to the socket, and
 * what the peer sends until its answering close frame (over TCP, until its FIN) is still read
 * and written out, within the receive bounds; the peer's close ends the output; Ctrl-C (or
 * SIGTERM) closes with 1000. `--reconnect` runs the pipe over `Reconnect.framed` instead:
 * messages keep flowing across sessions, and the end of input ends the output at once (the
 * session closes with 1000 as its scope closes; what arrives meanwhile is not written).
 *
 * @internal
 */
import { ByteChannel, CloseCode, Codec, Reconnect } from "@bytechannel/core"
import type { CodecError, MessageSocket } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Scope from "effect/Scope"
import { CliError, describe } from "./errors.js"
import * as Framing from "./framing.js"
import { clipReason, describeClose, isBrokenPipe, type Outcome, type Signal } from "./outcome.js"
import * as Stats from "./stats.js"
import * as Stdio from "./stdio.js"

/** @internal */
export interface ConnectOptions {
  readonly url: string
  readonly mode: Framing.Mode
  readonly onText: ByteChannel.TextPolicy
  readonly headers: Readonly<Record<string, string>>
  readonly protocols: ReadonlyArray<string>
  readonly insecure: boolean
  readonly ping: Duration.Duration | undefined
  readonly maxFrame: number | undefined
  readonly reconnect: boolean
  readonly stats: boolean
}

/** The `Connector` for the options: headers, TLS, pings and the payload bound are the transport's. */
const connector = (options: ConnectOptions) =>
  NodeConnector.layerWith({
    headers: Object.keys(options.headers).length > 0 ? { ...options.headers } : undefined,
    tls: options.insecure ? { rejectUnauthorized: false } : undefined,
    pingInterval: options.ping,
    maxPayload: Framing.maxPayload(options.maxFrame)
  })

type First<E1, E2> =
  | { readonly _tag: "Input"; readonly exit: Exit.Exit<void, E1> }
  | { readonly _tag: "Output"; readonly exit: Exit.Exit<void, E2> }
  | { readonly _tag: "Signal"; readonly signal: Signal }

/** Whichever happens first: the input ends, the output ends, or a signal arrives. */
const first = <E1, E2>(
  input: Fiber.Fiber<void, E1>,
  output: Fiber.Fiber<void, E2>,
  signal: Effect.Effect<Signal>
): Effect.Effect<First<E1, E2>> =>
  Effect.raceAll<Effect.Effect<First<E1, E2>>>([
    Effect.map(Fiber.await(input), (exit) => ({ _tag: "Input", exit })),
    Effect.map(Fiber.await(output), (exit) => ({ _tag: "Output", exit })),
    Effect.map(signal, (signal) => ({ _tag: "Signal", signal }))
  ])

/** A failure of the input (unreadable, or a frame the codec refuses) is the input's: exit status 1. */
const asInputError = (error: CliError | CodecError.CodecError): CliError =>
  error._tag === "CliError" ? error : new CliError({ reason: "Stdin", detail: describe(error), cause: error })

const failureOf = <E>(exit: Exit.Exit<void, E>): E | undefined => Option.getOrUndefined(Exit.findErrorOption(exit))

/** One connection: the pipe until one side ends it. */
const direct = (options: ConnectOptions, signal: Effect.Effect<Signal>): Effect.Effect<Outcome, never, Scope.Scope> =>
  Effect.gen(function*() {
    const opened = yield* Effect.raceFirst(
      Effect.result(
        ByteChannel.connect(options.url, {
          ...Framing.channelOptions(options.onText),
          protocols: options.protocols.length > 0 ? options.protocols : undefined
        })
      ),
      Effect.map(signal, (signal) => ({ _tag: "Signal" as const, signal }))
    ).pipe(Effect.provide(connector(options)))
    if (opened._tag === "Signal") return { signal: opened.signal }
    if (opened._tag === "Failure") return { error: opened.failure }
    const channel = opened.success
    const protocol = channel.socket.protocol
    yield* Stdio.info(`connected to ${options.url}${protocol === "" ? "" : ` (protocol ${JSON.stringify(protocol)})`}`)
    if (options.stats) yield* Stats.track

    const out = Stdio.stdout()
    const input = options.mode.outgoing(Stdio.stdin).pipe(
      Stream.runForEachArray((messages) => Framing.sendAll(channel, messages))
    )
    const output = options.mode.incoming(channel).pipe(Stream.runForEachArray(out.write))
    const inputFiber = yield* Effect.forkChild(input)
    const outputFiber = yield* Effect.forkChild(output)

    const close = (closeOptions: MessageSocket.CloseOptions) =>
      channel.socket.closeWithProtocolCode(closeOptions).pipe(Effect.catch(() => channel.closed))
    const finish = (outcome: Omit<Outcome, "info">, info: MessageSocket.CloseInfo) =>
      Effect.gen(function*() {
        // What arrived before the close is written out before the end is reported.
        const outputExit = yield* Fiber.await(outputFiber)
        const outputError = failureOf(outputExit)
        yield* Effect.ignore(out.flush)
        const error = outcome.error ?? (outputError?._tag === "SocketError" && outputError.reason === "Closed" ? undefined : outputError)
        return { ...outcome, error, info } satisfies Outcome
      })

    const event = yield* first(inputFiber, outputFiber, signal)
    switch (event._tag) {
      case "Signal": {
        yield* Fiber.interrupt(inputFiber)
        const info = yield* close({ code: CloseCode.Normal, reason: event.signal })
        return yield* finish({ signal: event.signal, why: event.signal }, info)
      }
      case "Input": {
        const error = failureOf(event.exit)
        if (error === undefined) {
          // End of input: everything read was handed to the socket; close after it. The output
          // goes on meanwhile: what arrives before the peer's answering close is written out.
          const info = yield* close({ code: CloseCode.Normal })
          return yield* finish({ why: "end of input" }, info)
        }
        if (error._tag === "SocketError") {
          // The connection closed under the sender: the output side tells how.
          return yield* finish({}, yield* channel.closed)
        }
        const info = yield* close({ code: CloseCode.InternalError, reason: clipReason(`stdin: ${describe(error)}`) })
        return yield* finish({ error: asInputError(error), why: "bad input" }, info)
      }
      case "Output": {
        yield* Fiber.interrupt(inputFiber)
        const error = failureOf(event.exit)
        if (error?._tag === "CliError") {
          // stdout failed: its reader went away (1000), or worse (1011).
          const info = yield* isBrokenPipe(error)
            ? close({ code: CloseCode.Normal, reason: "stdout closed" })
            : close({ code: CloseCode.InternalError, reason: clipReason(describe(error)) })
          return yield* finish({ error, why: "stdout closed" }, info)
        }
        if (error === undefined || error._tag === "SocketError") return yield* finish({}, yield* channel.closed)
        // A frame the codec cannot write out (an encode error); a bad frame from the peer (a decode
        // error) has closed the connection already (1007, 1009), and this close is then a no-op.
        return yield* finish({}, yield* close({ code: CloseCode.InternalError, reason: clipReason(describe(error)) }))
      }
    }
  })

const describeEvent = (event: Reconnect.ReconnectEvent): string => {
  switch (event._tag) {
    case "Connecting":
      return `reconnect: connecting (attempt ${event.attempt})`
    case "Connected":
      return `reconnect: connected (attempt ${event.attempt})`
    case "Disconnected":
      return `reconnect: ${describeClose(event.info)}`
    case "Retrying":
      return `reconnect: retrying in ${Duration.format(event.delay)} (attempt ${event.attempt})${
        event.error ? `: ${event.error.message}` : ""
      }`
    case "GaveUp":
      return `reconnect: gave up (${event.reason})${event.error ? `: ${event.error.message}` : ""}`
  }
}

/** Over `Reconnect.framed`: the pipe goes on across sessions; its events are reported on stderr. */
const reconnecting = (
  options: ConnectOptions,
  withCodec: <R>(f: <A>(codec: Codec.Codec<A>) => R) => R,
  signal: Effect.Effect<Signal>
): Effect.Effect<Outcome, never, Scope.Scope> =>
  withCodec((codec) =>
    Effect.gen(function*() {
      let last: MessageSocket.CloseInfo | undefined
      const onEvent = (event: Reconnect.ReconnectEvent) =>
        Effect.andThen(
          Effect.sync(() => {
            if (event._tag === "Disconnected") last = event.info
          }),
          Stdio.info(describeEvent(event))
        )
      const session = yield* Reconnect.framed(options.url, codec, {
        ...Framing.channelOptions(options.onText),
        protocols: options.protocols.length > 0 ? options.protocols : undefined,
        onEvent
      }).pipe(Effect.provide(connector(options)))
      if (options.stats) yield* Stats.track

      const out = Stdio.stdout()
      const input = Stdio.stdin.pipe(Codec.decode(codec), Stream.runForEach(session.send))
      const output = session.messages.pipe(Codec.encode(codec), Stream.runForEachArray(out.write))
      const inputFiber = yield* Effect.forkChild(input)
      const outputFiber = yield* Effect.forkChild(output)
      const finish = (outcome: Outcome) =>
        Effect.gen(function*() {
          yield* Fiber.interrupt(inputFiber)
          yield* Fiber.interrupt(outputFiber)
          yield* Effect.ignore(out.flush)
          return outcome
        })

      const event = yield* first(inputFiber, outputFiber, signal)
      switch (event._tag) {
        case "Signal":
          return yield* finish({ signal: event.signal, ended: `${event.signal}: closing with 1000` })
        case "Input": {
          const error = failureOf(event.exit)
          if (error === undefined || error._tag === "NotSent") {
            if (error === undefined) {
              return yield* finish({ ended: "end of input: every message was handed to a connection, which closes with 1000" })
            }
            // The sessions ended: the output side says how.
            const outputExit = yield* Fiber.await(outputFiber)
            return yield* finish({ info: last, error: failureOf(outputExit) })
          }
          return yield* finish({ info: last, error: asInputError(error) })
        }
        case "Output": {
          const error = failureOf(event.exit)
          return yield* finish({ info: last, error })
        }
      }
    })
  )

/** Runs `connect` to its end. */
export const run = (options: ConnectOptions, signal: Effect.Effect<Signal>): Effect.Effect<Outcome, never, Scope.Scope> => {
  if (!options.reconnect) return direct(options, signal)
  const withCodec = options.mode.withCodec
  return withCodec === undefined
    ? Effect.succeed({ error: new CliError({ reason: "Usage", detail: "--reconnect sends binary frames: it does not combine with --text" }) })
    : reconnecting(options, withCodec, signal)
}
