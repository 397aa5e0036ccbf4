/**
 * Running the `bytechannel` executable (bundled from `src` by globalSetup.ts) in a child process:
 * its stdin to write, its stdout collected (or handed to a consumer), its stderr as lines to wait
 * for, its exit. Every child is killed with its scope.
 */
import type { MessageSocket } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type ChildProcessByStdio, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import type { Readable, Writable } from "node:stream"
import { inject } from "vitest"

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Bin {
  readonly process: ChildProcessByStdio<Writable, Readable, Readable>
  /** Waits for a stderr line matching `pattern` (fails with all of stderr if the process exits first). */
  readonly stderrLine: (pattern: RegExp) => Effect.Effect<string, Error>
  /** Everything written on stderr so far. */
  readonly stderr: () => string
  /** Everything written on stdout so far (empty when a consumer was given). */
  readonly stdout: () => Buffer
  /** Waits for a complete stdout line matching `pattern` (fails if the process exits first). */
  readonly stdoutLine: (pattern: RegExp) => Effect.Effect<string, Error>
  /** Waits until stdout holds at least `n` bytes (fails if the process exits first). */
  readonly stdoutBytes: (n: number) => Effect.Effect<Buffer, Error>
  /** Writes to stdin, waiting for it to drain. */
  readonly write: (data: string | Uint8Array) => Effect.Effect<void>
  readonly exited: Effect.Effect<Exit>
}

/**
 * Runs `command ...args`. `onStdout` takes stdout instead of collecting it (a consumer that
 * pauses the stream slows the process's stdout down).
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options?: { readonly onStdout?: (chunk: Buffer, stream: Readable) => void }
) =>
  Effect.acquireRelease(
    Effect.sync((): Bin => {
      const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } })
      let stderr = ""
      const out: Array<Buffer> = []
      let outBytes = 0
      const waiters = new Set<() => void>()
      const wake = () => waiters.forEach((waiter) => waiter())
      child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text
        wake()
      })
      child.stdout.on("data", (chunk: Buffer) => {
        if (options?.onStdout) options.onStdout(chunk, child.stdout)
        else out.push(chunk)
        outBytes += chunk.length
        wake()
      })
      child.stdin.on("error", () => {}) // EPIPE once the process has gone: seen through its exit.
      let exit: Exit | undefined
      child.on("close", (code, signal) => {
        exit = { code, signal }
        wake()
      })
      const waitFor = <A>(check: () => A | undefined, what: () => string) =>
        Effect.callback<A, Error>((resume) => {
          const waiter = () => {
            const value = check()
            if (value !== undefined) {
              waiters.delete(waiter)
              resume(Effect.succeed(value))
            } else if (exit !== undefined) {
              waiters.delete(waiter)
              resume(Effect.fail(new Error(`${command} ${args.join(" ")} exited (${exit.code ?? exit.signal}) before ${what()}; stderr:\n${stderr}`)))
            }
          }
          waiters.add(waiter)
          waiter()
          return Effect.sync(() => waiters.delete(waiter))
        })
      return {
        process: child,
        stderr: () => stderr,
        stdout: () => Buffer.concat(out),
        stderrLine: (pattern) =>
          waitFor(() => stderr.split("\n").find((line) => pattern.test(line)), () => `a stderr line matching ${pattern}`),
        stdoutLine: (pattern) =>
          waitFor(
            () => Buffer.concat(out).toString().split("\n").slice(0, -1).find((line) => pattern.test(line)),
            () => `a stdout line matching ${pattern}`
          ),
        stdoutBytes: (n) => waitFor(() => (outBytes >= n ? Buffer.concat(out) : undefined), () => `${n} bytes on stdout (got ${outBytes})`),
        write: (data) =>
          Effect.callback<void>((resume) => {
            if (child.stdin.write(data)) resume(Effect.void)
            else child.stdin.once("drain", () => resume(Effect.void))
          }),
        exited: Effect.orDie(waitFor(() => exit, () => "exiting"))
      }
    }),
    ({ process: child }) =>
      Effect.sync(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      })
  )

/** Runs `bytechannel ...args` (see `run`). */
export const bin = (args: ReadonlyArray<string>, options?: { readonly onStdout?: (chunk: Buffer, stream: Readable) => void }) =>
  run(process.execPath, [inject("bytechannelBin"), ...args], options)

/** A process's peak resident memory so far (VmHWM), in bytes. */
export const peakRss = (pid: number): number => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match ? Number(match[1]) * 1024 : Number.NaN
}

/** The processes whose parent is `pid` (Linux, from /proc). */
export const children = (pid: number): ReadonlyArray<number> =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter((s) => s !== "").map(Number)

/** The URL `serve` listens on, from its stderr. */
export const listening = (server: Bin) =>
  Effect.map(server.stderrLine(/listening on /), (line) => line.replace(/.*listening on /, "").trim())

/** Every message the peer sends until it closes, as received (text stays a string). */
export const receiveAll = (socket: MessageSocket.MessageSocket) =>
  Effect.gen(function*() {
    const messages: Array<MessageSocket.Message> = []
    while (true) {
      const next = yield* Effect.orElseSucceed(socket.receive, () => Option.none())
      if (Option.isNone(next)) return messages
      messages.push(next.value)
    }
  })
