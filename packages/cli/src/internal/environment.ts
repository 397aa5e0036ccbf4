/**
 * What `@effect/cli` needs from the platform, without `@effect/platform-node` (whose peer
 * dependencies would bring the cluster, RPC and SQL packages to every install of the command):
 * `Path`, a `FileSystem` that is never used (no option reads a file), and a `Terminal` without
 * prompts (`--wizard` would read its answers from stdin, which is this program's data). Help and
 * errors are plain text when they do not go to a terminal, or with `NO_COLOR`.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Terminal from "@effect/platform/Terminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { isatty } from "node:tty"

const noPrompts = Effect.dieMessage("bytechannel has no interactive prompts: --wizard is not supported (see --help)")

const terminal = Terminal.Terminal.of({
  columns: Effect.sync(() => process.stderr.columns ?? 80),
  rows: Effect.sync(() => process.stderr.rows ?? 24),
  isTTY: Effect.succeed(false),
  readInput: noPrompts,
  readLine: noPrompts,
  display: (text) => Effect.sync(() => void process.stderr.write(text))
})

/** The services `Command.run` requires. */
export const layer = Layer.mergeAll(Path.layer, FileSystem.layerNoop({}), Layer.succeed(Terminal.Terminal, terminal))

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

const plain = (colored: boolean) => (args: ReadonlyArray<unknown>): ReadonlyArray<unknown> =>
  colored ? args : args.map((arg) => (typeof arg === "string" ? arg.replace(ANSI, "") : arg))

/** The console with colors only where they are read by a person: a terminal, and no `NO_COLOR`. */
export const withPlainConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((base) => {
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== ""
    const out = plain(!noColor && isatty(1))
    const err = plain(!noColor && isatty(2))
    const console: Console.Console = {
      ...base,
      log: (...args) => base.log(...out(args)),
      error: (...args) => base.error(...err(args)),
      unsafe: {
        ...base.unsafe,
        log: (...args) => base.unsafe.log(...out(args)),
        error: (...args) => base.unsafe.error(...err(args))
      }
    }
    return Effect.withConsole(effect, console)
  })
