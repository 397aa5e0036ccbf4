/**
 * What `effect/cli` needs from the platform, and how it writes what it has to say.
 *
 * The services (`Command.Environment`) are built from `effect` alone, without
 * `@effect/platform-node`, whose required peer dependencies (redis) and HTTP client (undici)
 * would come with every install of the command, and which none of the options needs: `Path`, a
 * `FileSystem` and a process spawner that are never used (no option reads a file; `--exec`
 * spawns with `node:child_process`, see exec.ts), `Stdio` for the arguments, and a `Terminal`
 * without prompts (a prompt would read its answers from stdin, which is this program's data; so
 * `--wizard` is not among the built-in options either).
 *
 * What `effect/cli` presents: help on stdout (help.ts), `--version` as the bare version, and a
 * wrong command line as one line on stderr (never the help: stdout is data).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Path from "effect/Path"
import * as Stdio from "effect/Stdio"
import * as Terminal from "effect/Terminal"
import * as CliConfig from "effect/cli/CliConfig"
import * as CliOutput from "effect/cli/CliOutput"
import type * as Command from "effect/cli/Command"
import * as GlobalFlag from "effect/cli/GlobalFlag"
import * as ChildProcessSpawner from "effect/process/ChildProcessSpawner"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as constants from "./constants.js"
import * as Help from "./help.js"
import { report } from "./stdio.js"

const unused = (what: string) => Effect.die(new Error(`${constants.NAME} does not use ${what}`))

const noPrompts = Effect.die(new Error(`${constants.NAME} has no interactive prompts (see --help)`))

/** Its size is stdout's (0 rows when not a terminal); it never reads. */
const terminal = Terminal.make({
  columns: Effect.sync(() => process.stdout.columns ?? constants.HELP_WIDTH),
  rows: Effect.sync(() => process.stdout.rows ?? 0),
  size: noPrompts,
  readInput: noPrompts,
  readLine: noPrompts,
  display: (text) => Effect.sync(() => void process.stdout.write(text))
})

/** Arguments only: stdin and stdout are this program's data, read and written by stdio.ts. */
const stdio = Stdio.make({
  args: Effect.sync(() => process.argv.slice(2)),
  stdinIsTerminal: Effect.sync(() => process.stdin.isTTY === true),
  stdoutIsTerminal: Effect.sync(() => process.stdout.isTTY === true),
  stderrIsTerminal: Effect.sync(() => process.stderr.isTTY === true),
  stdout: () => Sink.die(new Error("stdout is written by stdio.ts")),
  stderr: () => Sink.die(new Error("stderr is written by stdio.ts")),
  stdin: Stream.die(new Error("stdin is read by stdio.ts"))
})

/** Colors only where a person reads them: a terminal, and no `NO_COLOR`. */
const colored = (stream: NodeJS.WriteStream) =>
  stream.isTTY === true && (process.env.NO_COLOR === undefined || process.env.NO_COLOR === "")

const presenter: CliOutput.Presenter = {
  present: (event) => {
    switch (event._tag) {
      case "Help": {
        const width = Math.min(process.stdout.columns ?? constants.HELP_WIDTH, constants.HELP_MAX_WIDTH)
        return Effect.sync(() => void process.stdout.write(`${Help.format(event.helpDoc, { width, bold: colored(process.stdout) })}\n`))
      }
      case "Version":
        return Effect.sync(() => void process.stdout.write(`${event.version}\n`))
      case "InvalidInvocation":
        return Effect.forEach(
          event.errors,
          (error) => report(`error: Usage: ${error.message} (see ${event.commandPath.join(" ")} --help)`),
          { discard: true }
        )
    }
  }
}

/** The services `Command.runWith` requires, and how it presents help, the version and a wrong command line. */
export const layer: Layer.Layer<Command.Environment> = Layer.mergeAll(
  Path.layer,
  FileSystem.layerNoop({}),
  Layer.succeed(Terminal.Terminal, terminal),
  Layer.succeed(Stdio.Stdio, stdio),
  Layer.succeed(ChildProcessSpawner.ChildProcessSpawner, ChildProcessSpawner.make(() => unused("a process spawner"))),
  CliOutput.layerPresenter(presenter),
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version, GlobalFlag.Completions] })
)
