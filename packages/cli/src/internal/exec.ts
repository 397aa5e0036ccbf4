/**
 * `serve --exec COMMAND`: each connection piped to a process of its own (`/bin/sh -c COMMAND`,
 * in a process group of its own), as websocat and inetd do. What the connection brings goes to
 * the process's stdin (waiting while the process does not read); its stdout goes to the
 * connection (read only as fast as the socket takes it); its stderr is the server's.
 *
 * The end: the process exiting closes the connection (1000 for status 0, 1011 with the status
 * as reason otherwise); the connection closing ends the process's stdin, and a process still
 * running `EXEC_EXIT_GRACE_MILLIS` later is killed (SIGTERM, then SIGKILL), as it is when the
 * server stops.
 *
 * @internal
 */
import { type ByteChannel, CloseCode } from "@bytechannel/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import type { Readable, Writable } from "node:stream"
import * as constants from "./constants.js"
import { CliError, describe } from "./errors.js"
import * as Framing from "./framing.js"
import { clipReason } from "./outcome.js"
import type { Connection } from "./serve.js"
import * as Stdio from "./stdio.js"

type Child = ChildProcessByStdio<Writable, Readable, null>

interface Status {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

interface Process {
  readonly child: Child
  /** Completes when the process has exited. */
  readonly exited: Effect.Effect<Status>
  readonly running: () => boolean
}

const start = (command: string, connection: Connection): Effect.Effect<Process, CliError> =>
  Effect.flatMap(Deferred.make<Status>(), (exit) =>
    Effect.callback<Process, CliError>((resume) => {
      const child: Child = spawn(constants.EXEC_SHELL, ["-c", command], {
        stdio: ["pipe", "pipe", "inherit"],
        detached: true,
        env: {
          ...process.env,
          BYTECHANNEL_CONNECTION: String(connection.id),
          BYTECHANNEL_REMOTE_ADDRESS: connection.remoteAddress ?? "",
          BYTECHANNEL_PATH: connection.url ?? "",
          BYTECHANNEL_PROTOCOL: connection.protocol
        }
      })
      let status: Status | undefined
      child.once("exit", (code, signal) => {
        status = { code, signal }
        Deferred.doneUnsafe(exit, Effect.succeed(status))
      })
      const exited = Deferred.await(exit)
      const onSpawn = () => {
        child.off("error", onError)
        // Later errors (a pipe broken by the process's exit) are seen through the streams.
        child.on("error", () => {})
        resume(Effect.succeed({ child, exited, running: () => status === undefined }))
      }
      const onError = (cause: Error) => {
        child.off("spawn", onSpawn)
        resume(Effect.fail(new CliError({ reason: "Exec", detail: `cannot run ${JSON.stringify(command)}: ${cause.message}`, cause })))
      }
      child.once("spawn", onSpawn)
      child.once("error", onError)
    })
  )

/** Signals the process's whole group (the shell and what it started). */
const signalGroup = (child: Child, signal: NodeJS.Signals) => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

/** Waits up to the grace period for the process to exit, then kills its group: SIGTERM, then SIGKILL. */
const stop = (proc: Process, grace: boolean): Effect.Effect<void> =>
  Effect.gen(function*() {
    proc.child.stdin.destroy()
    if (grace && proc.running()) yield* Effect.timeoutOption(proc.exited, constants.EXEC_EXIT_GRACE_MILLIS)
    if (!proc.running()) {
      // The command is gone; what it left running in its group (a `cmd &`) goes with it.
      signalGroup(proc.child, "SIGKILL")
      proc.child.stdout.destroy()
      return
    }
    signalGroup(proc.child, "SIGTERM")
    const exited = yield* Effect.timeoutOption(proc.exited, constants.EXEC_EXIT_GRACE_MILLIS)
    if (exited._tag === "None") {
      signalGroup(proc.child, "SIGKILL")
      yield* proc.exited
    }
    proc.child.stdout.destroy()
  })

const describeStatus = (status: Status) => (status.signal !== null ? `killed by ${status.signal}` : `exit status ${status.code}`)

/** The handler of `serve --exec`. */
export const handler = (command: string, mode: Framing.Mode) =>
(
  channel: ByteChannel.ByteChannel,
  connection: Connection,
  ready: Effect.Effect<void>
) =>
  Effect.gen(function*() {
    yield* ready
    const proc = yield* Effect.acquireRelease(start(command, connection), (proc) => stop(proc, false))
    yield* Effect.forkDetach(Effect.flatMap(proc.exited, (status) =>
      Effect.andThen(
        // What the command left running in its group (a `cmd &`) would hold its output open, and
        // with it the connection: it ends with the command.
        Effect.sync(() => signalGroup(proc.child, "SIGTERM")),
        Stdio.info(`#${connection.id} command ${describeStatus(status)}`)
      )))
    const what = `"${command}" (#${connection.id})`
    const input = Stdio.fromWritable(proc.child.stdin, "Exec", `the stdin of ${what}`)
    // The connection into the process; its end ends the process's stdin. A process that stops
    // reading (a broken pipe) just stops taking input.
    yield* mode.incoming(channel).pipe(
      Stream.runForEachArray(input.write),
      Effect.andThen(input.end),
      Effect.ignore,
      Effect.andThen(Effect.sync(() => proc.child.stdin.end())),
      Effect.forkScoped
    )
    const output = mode.outgoing(Stdio.fromReadable(proc.child.stdout, "Exec", `the output of ${what}`)).pipe(
      Stream.runForEachArray((messages) => Framing.sendAll(channel, messages)),
      Effect.result
    )
    const ended = yield* Effect.raceFirst(
      Effect.map(output, (result) => ({ _tag: "Output" as const, error: result._tag === "Failure" ? result.failure : undefined })),
      Effect.as(channel.closed, { _tag: "Closed" as const, error: undefined })
    )
    if (ended._tag === "Closed" || ended.error?._tag === "SocketError") {
      // The connection is gone: the process has its end of input, and the grace period to exit.
      return yield* stop(proc, true)
    }
    if (ended.error !== undefined) {
      yield* Stdio.report(`#${connection.id} error: ${describe(ended.error)}`)
    }
    // The process closed its output: its exit status closes the connection.
    const status = yield* Effect.timeoutOption(proc.exited, constants.EXEC_EXIT_GRACE_MILLIS)
    if (status._tag === "None") {
      yield* stop(proc, false)
      yield* channel.socket.closeWithProtocolCode({ code: CloseCode.InternalError, reason: "the command closed its output but did not exit" })
      return
    }
    if (status.value.code === 0) {
      yield* channel.close({ code: CloseCode.Normal })
      return
    }
    yield* channel.socket.closeWithProtocolCode({
      code: CloseCode.InternalError,
      reason: clipReason(`command ${describeStatus(status.value)}`)
    })
  })
