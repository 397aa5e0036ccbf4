/**
 * The command line's own errors: what went wrong outside the connection.
 *
 * @internal
 */
import * as Data from "effect/Data"

/**
 * - `Usage`: arguments that do not go together (exit status 2).
 * - `Stdin` / `Stdout`: the local input could not be read or the output written.
 * - `Exec`: the command of `serve --exec` could not be started or fed.
 *
 * @internal
 */
export type CliErrorReason = "Usage" | "Stdin" | "Stdout" | "Exec"

/** @internal */
export class CliError extends Data.TaggedError("CliError")<{
  readonly reason: CliErrorReason
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

/** @internal */
export const usage = (detail: string) => new CliError({ reason: "Usage", detail })

/** The error code of a Node system error (`EPIPE`, `ENOENT`, ...), if it has one. */
export const systemCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined

/** An error's message, for one line on stderr. */
export const describe = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : String(error)
