/**
 * The command line itself (`@effect/cli`): `connect` and `serve`, their options and their help,
 * and `main`, which runs one command line to an exit status.
 *
 * @internal
 */
import { Args, Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import * as Span from "@effect/cli/HelpDoc/Span"
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

const invalid = (text: string) => ValidationError.invalidValue(HelpDoc.p(text))

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** `500ms`, `30s`, `2m`, `1h`, `15` (seconds) or Effect's `"15 seconds"`; more than zero. */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim())
  const duration = match ? Option.some(Duration.millis(Number(match[1]) * UNITS[match[2] ?? "s"]!)) : Duration.decodeUnknown(text)
  return Option.filter(duration, (d) => Duration.toMillis(d) > 0 && Duration.isFinite(d))
}

const duration = (name: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("interval"),
    Options.mapEffect((text) =>
      Option.match(parseDuration(text), {
        onNone: () => Effect.fail(invalid(`--${name}: ${JSON.stringify(text)} is not a duration (500ms, 30s, 2m)`)),
        onSome: Effect.succeed
      })
    ),
    Options.optional
  )

const positive = (name: string) =>
  Options.integer(name).pipe(
    Options.mapEffect((n) => (n >= 1 ? Effect.succeed(n) : Effect.fail(invalid(`--${name} must be at least 1, got ${n}`)))),
    Options.optional
  )

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
  codec: Options.choice("codec", Framing.CODECS).pipe(
    Options.withDescription(
      "How bytes are cut into messages. raw (default): each chunk read is one binary message, and received bytes are " +
        "written as they come. lines, ndjson (one JSON value per line, checked), length (4-byte big-endian length " +
        "prefix), varint (LEB128 length prefix, as it-length-prefixed): each frame of the input is sent as one " +
        "message, and the received byte stream is cut into frames, each written whole; a bad frame from the peer " +
        "closes the connection (1007, or 1009 when over the bound)."
    ),
    Options.optional
  ),
  text: Options.boolean("text").pipe(
    Options.withDescription(
      "Send each line of the input as one text message, and write each message received followed by a newline " +
        "(WebSocket only)."
    )
  ),
  onText: Options.choice("on-text", ["bytes", "ignore", "error"]).pipe(
    Options.withDescription(
      "What a received text message does to the byte stream (without --text): bytes (its UTF-8 bytes, the default), " +
        "ignore (skipped), error (the connection closes with 1003)."
    ),
    Options.withDefault("bytes" as const)
  ),
  maxFrame: positive("max-frame").pipe(
    Options.withDescription("Largest frame (or line) accepted or sent, in bytes. Default: 1 MiB for lines and ndjson, 8 MiB for length and varint.")
  ),
  protocol: Options.text("protocol").pipe(
    Options.withDescription("A WebSocket subprotocol: offered (connect) or spoken (serve, in order of preference). Repeatable."),
    Options.repeated
  ),
  ping: duration("ping").pipe(
    Options.withDescription(
      "Send a WebSocket ping this often (500ms, 30s, 2m); a peer that does not answer within the same time is dropped (1006)."
    )
  ),
  stats: Options.boolean("stats").pipe(
    Options.withDescription("Print messages and bytes per second on stderr every second, and the totals (and peak memory) at the end.")
  ),
  quiet: Options.boolean("quiet").pipe(
    Options.withAlias("q"),
    Options.withDescription("Only errors (and serve's address) on stderr: no connection, close or reconnect lines.")
  )
}

type Shared = Command.Command.ParseConfig<typeof shared>

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

const connect = (signal: Effect.Effect<Signal>, done: (outcome: Outcome) => void) =>
  Command.make(
    "connect",
    {
      url: Args.text({ name: "url" }).pipe(Args.withDescription("ws://, wss:// or tcp://host:port (http:// and https:// are taken as ws:// and wss://).")),
      header: Options.text("header").pipe(
        Options.withAlias("H"),
        Options.withDescription("An HTTP header of the opening handshake, \"Name: value\". Repeatable."),
        Options.repeated
      ),
      insecure: Options.boolean("insecure").pipe(
        Options.withAlias("k"),
        Options.withDescription("Accept any TLS certificate (a self-signed wss:// server).")
      ),
      reconnect: Options.boolean("reconnect").pipe(
        Options.withDescription(
          "Connect again when the connection is lost (exponential backoff from 500 ms to 30 s, with jitter), and go on " +
            "piping: input waiting to be sent is sent on the next connection. Stops at a clean close by the server " +
            "(1000), at close codes 1008, 1009 and 4000-4099, and at HTTP 401/403. Its events are written on stderr."
        )
      ),
      ...shared
    },
    (args) =>
      Effect.gen(function*() {
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
        "closes with 1000 once everything was sent (what the peer sends after that is not read); the peer's close " +
        "ends the output; Ctrl-C closes with 1000."
    )
  )

const serve = (signal: Effect.Effect<Signal>, done: (outcome: Outcome) => void) =>
  Command.make(
    "serve",
    {
      port: Options.integer("port").pipe(
        Options.withAlias("p"),
        Options.withDescription("The port to listen on; 0 (the default) lets the system choose. The address is written on stderr: \"listening on ws://127.0.0.1:PORT\"."),
        Options.withDefault(0)
      ),
      host: Options.text("host").pipe(
        Options.withDescription("The address to listen on (0.0.0.0 for every interface)."),
        Options.withDefault(constants.DEFAULT_HOST)
      ),
      path: Options.text("path").pipe(
        Options.withDescription("Accept WebSocket connections only on this path (others get HTTP 404)."),
        Options.optional
      ),
      tcp: Options.boolean("tcp").pipe(Options.withDescription("Serve raw TCP instead of WebSocket.")),
      echo: Options.boolean("echo").pipe(
        Options.withDescription("Send every message (with --codec, every frame) back to its sender; text stays text.")
      ),
      broadcast: Options.boolean("broadcast").pipe(
        Options.withDescription(
          "Send every client's messages (with --codec, frames) to every client, the sender included. A client that does " +
            "not read slows the senders; nothing is dropped."
        )
      ),
      exec: Options.text("exec").pipe(
        Options.withPseudoName("command"),
        Options.withDescription(
          "Pipe each connection to a process of its own, /bin/sh -c COMMAND: what the client sends to its stdin, its " +
            "stdout to the client, its stderr to ours. Its exit closes the connection (1000 for status 0, 1011 " +
            "otherwise); the connection's close ends its stdin, and it is killed if still running 2 s later. It finds " +
            "BYTECHANNEL_CONNECTION, BYTECHANNEL_REMOTE_ADDRESS, BYTECHANNEL_PATH and BYTECHANNEL_PROTOCOL in its environment."
        ),
        Options.optional
      ),
      maxConnections: positive("max-connections").pipe(
        Options.withDescription("Connections served at once; more are closed with 1013 (try again later).")
      ),
      origin: Options.text("origin").pipe(
        Options.withDescription("An allowed Origin header; others get HTTP 403. Repeatable. Default: any origin."),
        Options.repeated
      ),
      ...shared
    },
    (args) =>
      Effect.gen(function*() {
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
        "stdout, and stdin goes to every client; --echo, --broadcast or --exec serve each connection instead. Ctrl-C " +
        "stops the server: its connections close with 1001."
    )
  )

const footer = HelpDoc.blocks([
  HelpDoc.h1("EXIT STATUS"),
  HelpDoc.descriptionList([
    [Span.text("0"), HelpDoc.p("The connection closed with 1000, by either side.")],
    [Span.text("1"), HelpDoc.p("It could not be opened (or the server could not listen), or stdin, stdout or the command failed.")],
    [Span.text("2"), HelpDoc.p("The arguments were wrong.")],
    [
      Span.text("3"),
      HelpDoc.p("It closed with another code: the peer's (1001, 1011, 4000, ...), or ours (1007, 1009) for a bad frame from the peer.")
    ],
    [Span.text("4"), HelpDoc.p("It was lost: no close frame (1006).")],
    [Span.text("130, 143"), HelpDoc.p("SIGINT (Ctrl-C), SIGTERM: the connection was closed with 1000 first (a server's with 1001).")]
  ]),
  HelpDoc.p("The last line on stderr says how it ended, e.g. closed 4000 \"bye\" by the peer."),
  HelpDoc.h1("EXAMPLES"),
  HelpDoc.p("bytechannel serve --port 8080 --echo"),
  HelpDoc.p("printf 'hello\\n' | bytechannel connect --codec lines ws://127.0.0.1:8080/"),
  HelpDoc.p("bytechannel serve --port 8080 --exec 'tr a-z A-Z'"),
  HelpDoc.p("bytechannel connect --text -H 'Authorization: Bearer TOKEN' wss://example.com/socket")
])

const root = (signal: Effect.Effect<Signal>, done: (outcome: Outcome) => void) =>
  Command.make("bytechannel", {}, () => Effect.fail(usage("a command is needed: connect or serve (see --help)"))).pipe(
    Command.withDescription(
      "Pipe stdin and stdout through a WebSocket or TCP connection, with any codec, as a client (connect) or a server (serve)."
    ),
    Command.withSubcommands([connect(signal, done), serve(signal, done)])
  )

/**
 * Runs one command line (`argv` as `process.argv`: node, the script, then the arguments) and
 * returns its exit status, having written how it ended on stderr. `signal` completes with the
 * first SIGINT or SIGTERM.
 */
export const main = (argv: ReadonlyArray<string>, signal: Effect.Effect<Signal>): Effect.Effect<number> =>
  Effect.gen(function*() {
    let outcome: Outcome | undefined
    const run = Command.run(root(signal, (o) => (outcome = o)), {
      name: constants.NAME,
      version: constants.VERSION,
      footer
    })
    const result = yield* Effect.either(run(argv).pipe(Effect.provide(Environment.layer), Environment.withPlainConsole))
    if (result._tag === "Left") {
      const error = result.left
      // @effect/cli has written its own message (and the usage) already.
      if (ValidationError.isValidationError(error)) return constants.EXIT_USAGE
      yield* Stdio.report(`error: ${describe(error)}`)
      return error instanceof CliError && error.reason === "Usage" ? constants.EXIT_USAGE : constants.EXIT_FAILURE
    }
    if (outcome === undefined) return constants.EXIT_OK // --help, --version
    // How it ended is written even with --quiet, unless it ended well.
    const status = exitStatus(outcome)
    for (const line of describeOutcome(outcome)) yield* status === constants.EXIT_OK ? Stdio.info(line) : Stdio.report(line)
    return status
  }).pipe(
    Effect.catchAllDefect((defect) => Effect.as(Stdio.report(`error: ${describe(defect)}`), constants.EXIT_FAILURE))
  )
