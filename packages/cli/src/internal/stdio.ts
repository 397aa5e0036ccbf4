/**
 * The local ends of a pipe: stdin as a pulled stream, stdout (or a process's stdin) as a writer
 * that waits while its buffer is full, and one-line reports on stderr.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { Readable, Writable } from "node:stream"
import * as constants from "./constants.js"
import { CliError, type CliErrorReason, describe } from "./errors.js"

/**
 * A readable as a stream of its chunks, each taken when the stream is pulled (the readable is
 * kept paused, so nothing more is read from the pipe or file than its own small buffer while the
 * consumer, and through it the socket's send, waits). Interruptible at any moment: a pending read
 * just stops waiting, which a promise-based async iterator cannot do.
 */
export const fromReadable = (readable: Readable, reason: CliErrorReason, what: string): Stream.Stream<Uint8Array, CliError> => {
  let failure: CliError | undefined
  const onError = (cause: unknown) => {
    failure ??= new CliError({ reason, detail: `cannot read ${what}: ${describe(cause)}`, cause })
  }
  readable.on("error", onError)
  const next = Effect.async<Uint8Array, Option.Option<CliError>>((resume) => {
    const check = () => {
      const chunk: Uint8Array | string | null = readable.read()
      if (chunk !== null) {
        cleanup()
        resume(Effect.succeed(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk))
      } else if (failure !== undefined) {
        cleanup()
        resume(Effect.fail(Option.some(failure)))
      } else if (readable.readableEnded || readable.destroyed) {
        cleanup()
        resume(Effect.fail(Option.none()))
      }
    }
    const cleanup = () => {
      readable.off("readable", check)
      readable.off("end", check)
      readable.off("error", check)
      readable.off("close", check)
    }
    readable.on("readable", check)
    readable.on("end", check)
    readable.on("error", check)
    readable.on("close", check)
    check()
    return Effect.sync(cleanup)
  })
  return Stream.repeatEffectOption(next)
}

/** stdin, read as it is pulled. */
export const stdin: Stream.Stream<Uint8Array, CliError> = Stream.suspend(() => fromReadable(process.stdin, "Stdin", "stdin"))

/**
 * @internal
 */
export interface Writer {
  /** Writes every chunk (as one write); completes when the writable accepted it, waiting while its buffer is full. */
  readonly write: (chunk: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, CliError>
  /** Waits until every byte written was handed to the operating system. */
  readonly flush: Effect.Effect<void, CliError>
  /** Ends the writable and waits until every byte was handed to the operating system. */
  readonly end: Effect.Effect<void, CliError>
  /** The error that stopped the writable (`EPIPE` when the reader went away), if any. */
  readonly failure: () => CliError | undefined
}

const join = (chunk: Chunk.Chunk<Uint8Array>): Uint8Array =>
  chunk.length === 1 ? Chunk.unsafeHead(chunk) : Buffer.concat(Chunk.toReadonlyArray(chunk))

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

  const waitDrain = Effect.async<void, CliError>((resume) => {
    const waiter = () => resume(failure ? Effect.fail(failure) : Effect.void)
    waiters.add(waiter)
    return Effect.sync(() => waiters.delete(waiter))
  })

  const write = (chunk: Chunk.Chunk<Uint8Array>): Effect.Effect<void, CliError> =>
    Effect.suspend(() => {
      if (failure) return Effect.fail(failure)
      if (chunk.length === 0) return Effect.void
      return writable.write(join(chunk)) ? Effect.void : waitDrain
    })

  // Writes complete in order: the callback of an empty write comes after every write before it.
  const flush = Effect.suspend(() => {
    if (failure || writable.writableFinished) return failure ? Effect.fail(failure) : Effect.void
    return Effect.async<void, CliError>((resume) => {
      const done = () => resume(failure ? Effect.fail(failure) : Effect.void)
      writable.write(new Uint8Array(0), done)
      waiters.add(done)
      return Effect.sync(() => waiters.delete(done))
    })
  })

  const end = Effect.suspend(() => {
    if (failure || writable.writableFinished) return failure ? Effect.fail(failure) : Effect.void
    return Effect.async<void, CliError>((resume) => {
      const done = () => resume(failure ? Effect.fail(failure) : Effect.void)
      writable.end(done)
      waiters.add(done)
      return Effect.sync(() => waiters.delete(done))
    })
  })

  return { write, flush, end, failure: () => failure }
}

/**
 * stdout as a writer, through `process.stdout`: for a pipe a non-blocking socket whose `write`
 * says when its buffer is full (so a slow reader pauses the socket, never the event loop); for a
 * file or a terminal, synchronous writes. (`fs.write` on fd 1 is not an option: Effect's logger
 * opens `process.stdout` when it loads, which makes a pipe non-blocking, and `fs.write` then
 * fails with EAGAIN.) `flush` before exiting, or what the pipe has not taken yet is lost.
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
