/**
 * The local ends of a pipe: stdin as a pulled stream, stdout (or a process's stdin) as a writer
 * that waits while its buffer is full, and one-line reports on stderr.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Pull from "effect/Pull"
import * as Stream from "effect/Stream"
import type { Readable, Writable } from "node:stream"
import * as constants from "./constants.js"
import { CliError, type CliErrorReason, describe } from "./errors.js"

const encoder = new TextEncoder()

/**
 * A condition a read waits for: nothing is taken from the readable while it is closed (its data
 * stays in the pipe, whose writer then waits), and the read goes on once it opens.
 */
export interface Gate {
  readonly isOpen: () => boolean
  /** Calls `f` each time the gate opens, until the returned function is called. */
  readonly onOpen: (f: () => void) => () => void
}

/**
 * The next chunk of a readable, taken from it only now (the readable is kept paused, so nothing
 * more is read from the pipe or file than its own small buffer while nobody asks), and only
 * while `gate` is open; `Done` at its end. Cancel-safe: interrupted while it waits, it takes
 * nothing and leaves the readable as it was, which a promise-based async iterator cannot do.
 */
export const readChunk = (
  readable: Readable,
  reason: CliErrorReason,
  what: string,
  gate?: Gate
): Pull.Pull<Uint8Array, CliError> => {
  let failure: CliError | undefined
  readable.on("error", (cause: unknown) => {
    failure ??= new CliError({ reason, detail: `cannot read ${what}: ${describe(cause)}`, cause })
  })
  return Effect.callback<Uint8Array, CliError | Cause.Done>((resume) => {
    const check = () => {
      if (gate !== undefined && !gate.isOpen()) return
      const chunk: Uint8Array | string | null = readable.read()
      if (chunk !== null) {
        cleanup()
        resume(Effect.succeed(typeof chunk === "string" ? encoder.encode(chunk) : chunk))
      } else if (failure !== undefined) {
        cleanup()
        resume(Effect.fail(failure))
      } else if (readable.readableEnded || readable.destroyed) {
        cleanup()
        resume(Cause.done())
      }
    }
    const cleanup = () => {
      readable.off("readable", check)
      readable.off("end", check)
      readable.off("error", check)
      readable.off("close", check)
      stopWatching()
    }
    const stopWatching = gate === undefined ? () => {} : gate.onOpen(check)
    readable.on("readable", check)
    readable.on("end", check)
    readable.on("error", check)
    readable.on("close", check)
    check()
    return Effect.sync(cleanup)
  })
}

/** A readable as a stream of its chunks, each taken when the stream is pulled (see `readChunk`). */
export const fromReadable = (
  readable: Readable,
  reason: CliErrorReason,
  what: string,
  gate?: Gate
): Stream.Stream<Uint8Array, CliError> => Stream.fromEffectRepeat(readChunk(readable, reason, what, gate))

/** stdin, read as it is pulled, and only while `gate` is open (see `readChunk`); `process.stdin` is opened on first pull. */
export const stdinWhen = (gate?: Gate): Stream.Stream<Uint8Array, CliError> =>
  Stream.suspend(() => fromReadable(process.stdin, "Stdin", "stdin", gate))

/** stdin, read as it is pulled. */
export const stdin: Stream.Stream<Uint8Array, CliError> = stdinWhen()

/**
 * @internal
 */
export interface Writer {
  /** Writes every chunk (as one write); completes when the writable accepted it, waiting while its buffer is full. */
  readonly write: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, CliError>
  /** Waits until every byte written was handed to the operating system. */
  readonly flush: Effect.Effect<void, CliError>
  /** Ends the writable and waits until every byte was handed to the operating system. */
  readonly end: Effect.Effect<void, CliError>
  /** The error that stopped the writable (`EPIPE` when the reader went away), if any. */
  readonly failure: () => CliError | undefined
}

const join = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)

/**
 * A writer over a Node writable with backpressure: a write that fills the writable's buffer
 * waits for `drain`, so a slow reader (a pipe into `less`, a slow process) pauses whoever feeds
 * the writer, and through it the socket.
 */
export const fromWritable = (writable: Writable, reason: CliErrorReason, what: string): Writer => {
  let failure: CliError | undefined
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const waiter of waiters) waiter()
    waiters.clear()
  }
  const onError = (cause: unknown) => {
    failure ??= new CliError({ reason, detail: `cannot write ${what}: ${describe(cause)}`, cause })
    wake()
  }
  const onClose = () => {
    failure ??= new CliError({ reason, detail: `${what} was closed` })
    wake()
  }
  writable.on("error", onError)
  writable.on("drain", wake)
  writable.on("close", onClose)

  /** Completes when `waiter` is woken (a drain, the callback of a write, an error or the close). */
  const wait = (start: (done: () => void) => void) =>
    Effect.callback<void, CliError>((resume) => {
      const done = () => resume(failure ? Effect.fail(failure) : Effect.void)
      waiters.add(done)
      start(done)
      return Effect.sync(() => waiters.delete(done))
    })

  const waitDrain = wait(() => {})

  const write = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, CliError> =>
    Effect.suspend(() => {
      if (failure) return Effect.fail(failure)
      if (chunks.length === 0) return Effect.void
      return writable.write(join(chunks)) ? Effect.void : waitDrain
    })

  /** Runs `start` unless the writable already failed or finished. */
  const settled = (start: (done: () => void) => void) =>
    Effect.suspend(() => {
      if (failure) return Effect.fail(failure)
      if (writable.writableFinished) return Effect.void
      return wait(start)
    })

  // Writes complete in order: the callback of an empty write comes after every write before it.
  const flush = settled((done) => writable.write(new Uint8Array(0), done))
  const end = settled((done) => writable.end(done))

  return { write, flush, end, failure: () => failure }
}

/**
 * stdout as a writer, through `process.stdout`: for a pipe a non-blocking socket whose `write`
 * says when its buffer is full (so a slow reader pauses the socket, never the event loop); for a
 * file or a terminal, synchronous writes. (`fs.write` on fd 1 is not an option: Node makes a
 * pipe non-blocking once `process.stdout` is opened, by us or by a library's console, and
 * `fs.write` then fails with EAGAIN.) `flush` before exiting, or what the pipe has not taken yet
 * is lost.
 */
export const stdout = (): Writer => fromWritable(process.stdout, "Stdout", "stdout")

/** Whether stderr reports are silenced (`--quiet`): errors and the listening address are always written. */
let quiet = false

/** @internal */
export const setQuiet = (value: boolean) => {
  quiet = value
}

/** One line on stderr, prefixed with the program's name (stderr writes are synchronous for files, pipes and terminals). */
export const report = (line: string): Effect.Effect<void> =>
  Effect.sync(() => {
    process.stderr.write(`${constants.NAME}: ${line}\n`)
  })

/** One informational line on stderr, unless `--quiet`. */
export const info = (line: string): Effect.Effect<void> => Effect.suspend(() => (quiet ? Effect.void : report(line)))
