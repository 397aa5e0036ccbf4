/**
 * The command line itself (`effect/cli`): `connect` and `serve`, their options and their help,
 * and `main`, which runs one command line to an exit status.
 *
 * @internal
 */
import * as Argument from "effect/cli/Argument"
import * as CliParseError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Connect from "./connect.js"
import * as constants from "./constants.js"
import * as Environment from "./environment.js"
import { CliError, describe, usage } from "./errors.js"
import * as Framing from "./framing.js"
import { describeOutcome, exitStatus, type Outcome, type Signal } from "./outcome.js"
import * as Serve from "./serve.js"
import * as Stdio from "./stdio.js"

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** `500ms`, `30s`, `2m`, `1h`, `15` (seconds) or Effect's `"15 seconds"`; more than zero. */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  const duration = match
    ? Option.some(Duration.millis(Number(match[1]) * UNITS[match[2] ?? "s"]!))
    : Duration.fromInput(text as Duration.Input)
  return Option.filter(duration, (d) => Duration.isFinite(d) && Duration.toMillis(d) > 0)
}

const duration = (name: string) =>
  Flag.String(name).pipe(
    Flag.filterMap(parseDuration, () => "a duration: 500ms, 30s, 2m"),
    Flag.withMetavar("interval")
  )

const positive = (name: string) => Flag.Int(name).pipe(Flag.filter((n) => n >= 1, () => "an integer of at least 1"))

const flag = (name: string) => Flag.Boolean(name).pipe(Flag.withDefault(false))

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** `Name: value` pairs. */
const parseHeaders = (headers: ReadonlyArray<string>) =>
  Effect.forEach(headers, (header) => {
    const colon = header.indexOf(":")
    const name = colon > 0 ? header.slice(0, colon).trim() : ""
    return HEADER_NAME.test(name)
      ? Effect.succeed([name, header.slice(colon + 1).trim()] as const)
      : Effect.fail(usage(`--header ${JSON.stringify(header)}: expected "Name: value"`))
  }).pipe(Effect.map((pairs) => Object.fromEntries(pairs)))

// Options shared by connect and serve.
const shared = {
  codec: Flag.Literals("codec", Framing.CODECS).pipe(
    Flag.withMetavar(Framing.CODECS.join("|")),
    Flag.withDescription(
      "How bytes are cut into messages. raw (default): each chunk read is one binary message, and received bytes are " +
        "written as they come. lines, ndjson (one JSON value per line, checked), length (4-byte big-endian length " +
        "prefix), varint (LEB128 length prefix, as it-length-prefixed): each frame of the input is sent as one " +
        "message, and the received byte stream is cut into frames, each written whole; a bad frame from the peer " +
        "closes the connection (1007, or 1009 when over the bound)."
    ),
    Flag.optional
  ),
  text: flag("text").pipe(
    Flag.withDescription(
      "Send each line of the input as one text message, and write each message received followed by a newline " +
        "(WebSocket only)."
    )
  ),
  onText: Flag.Literals("on-text", ["bytes", "ignore", "error"]).pipe(
    Flag.withMetavar("bytes|ignore|error"),
    Flag.withDescription(
      "What a received text message does to the byte stream (without --text): bytes (its UTF-8 bytes, the default), " +
        "ignore (skipped), error (the connection closes with 1003)."
    ),
    Flag.withDefault("bytes")
  ),
  maxFrame: positive("max-frame").pipe(
    Flag.withMetavar("bytes"),
    Flag.withDescription(
      "Largest frame (or line) accepted or sent, in bytes. Default: 1 MiB for lines and ndjson, 8 MiB for length and varint."
    ),
    Flag.optional
  ),
  protocol: Flag.String("protocol").pipe(
    Flag.withMetavar("name"),
    Flag.withDescription("A WebSocket subprotocol: offered (connect) or spoken (serve, in order of preference). Repeatable."),
    Flag.atLeast(0)
  ),
  ping: duration("ping").pipe(
    Flag.withDescription(
      "Send a WebSocket ping this often (500ms, 30s, 2m); a peer that does not answer within the same time is dropped (1006)."
    ),
    Flag.optional
  ),
  stats: flag("stats").pipe(
    Flag.withDescription("Print messages and bytes per second on stderr every second, and the totals (and peak memory) at the end.")
  ),
  quiet: flag("quiet").pipe(
    Flag.withAlias("q"),
    Flag.withDescription("Only errors (and serve's address) on stderr: no connection, close or reconnect lines.")
  )
}

type Shared = Command.Command.Config.Infer<typeof shared>

/** The framing mode, checked against the transport. */
const modeOf = (options: Shared, tcp: boolean) =>
  Effect.gen(function*() {
    const codec = Option.getOrElse(options.codec, () => "raw" as const)
    if (options.text && Option.isSome(options.codec) && codec !== "lines") {
      return yield* usage(`--text sends lines: it does not combine with --codec ${codec}`)
    }
    if (options.text && tcp) return yield* usage("--text needs a WebSocket: TCP has no text messages (use --codec lines)")
    return Framing.make({ codec, text: options.text, maxFrame: Option.getOrUndefined(options.maxFrame) })
  })

/** What runs a command: the signal that stops it, and where its outcome goes. */
interface Run {
  readonly signal: Effect.Effect<Signal>
  readonly done: (outcome: Outcome) => void
}

const connect = ({ done, signal }: Run) =>
  Command.make(
    "connect",
    {
      url: Argument.String("url").pipe(
        Argument.withDescription("ws://, wss:// or tcp://host:port (http:// and https:// are taken as ws:// and wss://).")
      ),
      header: Flag.String("header").pipe(
        Flag.withAlias("H"),
        Flag.withMetavar("\"Name: value\""),
        Flag.withDescription("An HTTP header of the opening handshake. Repeatable."),
        Flag.atLeast(0)
      ),
      insecure: flag("insecure").pipe(
        Flag.withAlias("k"),
        Flag.withDescription("Accept any TLS certificate (a self-signed wss:// server).")
      ),
      reconnect: flag("reconnect").pipe(
        Flag.withDescription(
          "Connect again when the connection is lost (exponential backoff from 500 ms to 30 s, with jitter), and go on " +
            "piping: input waiting to be sent is sent on the next connection. Stops at a clean close by the server " +
            "(1000), at close codes 1008, 1009 and 4000-4099, and at HTTP 401/403. Its events are written on stderr. " +
            "The end of the input ends the output at once: the connection closes with 1000, and what the peer sends " +
            "meanwhile is not written."
        )
      ),
      ...shared
    },
    Effect.fnUntraced(function*(args) {
      Stdio.setQuiet(args.quiet)
      const tcp = /^tcp:/i.test(args.url)
      const mode = yield* modeOf(args, tcp)
      if (tcp && (args.header.length > 0 || args.protocol.length > 0 || Option.isSome(args.ping))) {
        return yield* usage("--header, --protocol and --ping need a WebSocket (ws:// or wss://), not tcp://")
      }
      if (args.reconnect && args.text) return yield* usage("--reconnect sends binary frames: it does not combine with --text")
      const outcome = yield* Effect.scoped(Connect.run({
        url: args.url,
        mode,
        onText: args.onText,
        headers: yield* parseHeaders(args.header),
        protocols: args.protocol,
        insecure: args.insecure,
        ping: Option.getOrUndefined(args.ping),
        maxFrame: Option.getOrUndefined(args.maxFrame),
        reconnect: args.reconnect,
        stats: args.stats
      }, signal))
      done(outcome)
    })
  ).pipe(
    Command.withDescription(
      "Pipe stdin to the connection and the connection to stdout, with backpressure both ways. The end of the input " +
        "closes with 1000 once everything was sent; what the peer sends until its answering close frame is still " +
        "read and written out (up to the receive bounds, see --max-frame; not with --reconnect), so " +
        "`echo hi | bytechannel connect URL` prints the echo. The peer's close ends the output; Ctrl-C closes with 1000."
    )
  )

const serve = ({ done, signal }: Run) =>
  Command.make(
    "serve",
    {
      port: Flag.Int("port").pipe(
        Flag.withAlias("p"),
        Flag.withDescription(
          "The port to listen on; 0 (the default) lets the system choose. The address is written on stderr: " +
            "\"listening on ws://127.0.0.1:PORT\"."
        ),
        Flag.withDefault(0)
      ),
      host: Flag.String("host").pipe(
        Flag.withDescription(`The address to listen on (0.0.0.0 for every interface). Default: ${constants.DEFAULT_HOST}.`),
        Flag.withDefault(constants.DEFAULT_HOST)
      ),
      path: Flag.String("path").pipe(
        Flag.filter((path) => path.startsWith("/"), () => "a path starting with /: /chat"),
        Flag.withDescription("Accept WebSocket connections only on this path (others get HTTP 404)."),
        Flag.optional
      ),
      tcp: flag("tcp").pipe(Flag.withDescription("Serve raw TCP instead of WebSocket.")),
      echo: flag("echo").pipe(
        Flag.withDescription("Send every message (with --codec, every frame) back to its sender; text stays text.")
      ),
      broadcast: flag("broadcast").pipe(
        Flag.withDescription(
          "Send every client's messages (with --codec, frames) to every client, the sender included. A client that does " +
            "not read slows the senders; nothing is dropped."
        )
      ),
      exec: Flag.String("exec").pipe(
        Flag.withMetavar("command"),
        Flag.withDescription(
          "Pipe each connection to a process of its own, /bin/sh -c COMMAND: what the client sends to its stdin, its " +
            "stdout to the client, its stderr to ours. Its exit closes the connection (1000 for status 0, 1011 " +
            "otherwise); the connection's close ends its stdin, and it is killed if still running 2 s later. It finds " +
            "BYTECHANNEL_CONNECTION, BYTECHANNEL_REMOTE_ADDRESS, BYTECHANNEL_PATH and BYTECHANNEL_PROTOCOL in its environment."
        ),
        Flag.optional
      ),
      maxConnections: positive("max-connections").pipe(
        Flag.withDescription("Connections served at once; more are closed with 1013 (try again later)."),
        Flag.optional
      ),
      origin: Flag.String("origin").pipe(
        Flag.withDescription("An allowed Origin header; others get HTTP 403. Repeatable. Default: any origin."),
        Flag.atLeast(0)
      ),
      ...shared
    },
    Effect.fnUntraced(function*(args) {
      Stdio.setQuiet(args.quiet)
      const behaviours = [args.echo && "--echo", args.broadcast && "--broadcast", Option.isSome(args.exec) && "--exec"]
        .filter((x): x is string => typeof x === "string")
      if (behaviours.length > 1) return yield* usage(`${behaviours.join(" and ")} do not combine: choose one`)
      if (args.port < 0 || args.port > 65535) return yield* usage(`--port must be 0-65535, got ${args.port}`)
      if (args.tcp) {
        const wsOnly = [
          Option.isSome(args.path) && "--path",
          args.origin.length > 0 && "--origin",
          args.protocol.length > 0 && "--protocol",
          Option.isSome(args.maxConnections) && "--max-connections",
          Option.isSome(args.ping) && "--ping"
        ].filter((x): x is string => typeof x === "string")
        if (wsOnly.length > 0) return yield* usage(`${wsOnly.join(", ")}: WebSocket only, not with --tcp`)
      }
      const mode = yield* modeOf(args, args.tcp)
      const outcome = yield* Effect.scoped(Serve.run({
        host: args.host,
        port: args.port,
        path: Option.getOrUndefined(args.path),
        tcp: args.tcp,
        behaviour: Option.isSome(args.exec)
          ? { _tag: "Exec", command: args.exec.value }
          : args.echo
          ? { _tag: "Echo" }
          : args.broadcast
          ? { _tag: "Broadcast" }
          : { _tag: "Stdio" },
        mode,
        onText: args.onText,
        maxConnections: Option.getOrUndefined(args.maxConnections),
        origins: args.origin,
        protocols: args.protocol,
        ping: Option.getOrUndefined(args.ping),
        maxFrame: Option.getOrUndefined(args.maxFrame),
        stats: args.stats
      }, signal))
      done(outcome)
    })
  ).pipe(
    Command.withDescription(
      "Listen for WebSocket (or --tcp) connections. By default every client's bytes (with --codec, whole frames) go to " +
        "stdout, and stdin goes to every client: stdin is read only while a client is connected, so what is typed " +
        "while none is waits for the next one. --echo, --broadcast or --exec serve each connection instead. Ctrl-C " +
        "stops the server: its connections close with 1001."
    )
  )

const root = (run: Run) =>
  Command.make(constants.NAME, {}, () => usage("a command is needed: connect or serve (see --help)")).pipe(
    Command.withDescription(
      "Pipe stdin and stdout through a WebSocket or TCP connection, with any codec, as a client (connect) or a server (serve)."
    ),
    Command.withSubcommands([connect(run), serve(run)])
  )

/**
 * Runs one command line (`args`: the arguments after the script) and returns its exit status,
 * having written how it ended on stderr. `signal` completes with the first SIGINT or SIGTERM.
 */
export const main = (args: ReadonlyArray<string>, signal: Effect.Effect<Signal>): Effect.Effect<number> =>
  Effect.gen(function*() {
    let outcome: Outcome | undefined
    const command = root({ signal, done: (o) => (outcome = o) })
    const result = yield* Command.runWith(command, { version: constants.VERSION })(args).pipe(
      Effect.provide(Environment.layer),
      Effect.result
    )
    if (result._tag === "Failure") {
      const error = result.failure
      // A wrong command line, reported already (see environment.ts).
      if (CliParseError.isCliError(error)) return constants.EXIT_USAGE
      yield* Stdio.report(`error: ${describe(error)}`)
      return error instanceof CliError && error.reason === "Usage" ? constants.EXIT_USAGE : constants.EXIT_FAILURE
    }
    if (outcome === undefined) return constants.EXIT_OK // --help, --version
    // How it ended is written even with --quiet, unless it ended well.
    const status = exitStatus(outcome)
    for (const line of describeOutcome(outcome)) yield* status === constants.EXIT_OK ? Stdio.info(line) : Stdio.report(line)
    return status
  }).pipe(
    Effect.catchDefect((defect) => Effect.as(Stdio.report(`error: ${describe(defect)}`), constants.EXIT_FAILURE))
  )
