/**
 * How a run ended, as one line on stderr and an exit status:
 *
 * | status | when |
 * |---|---|
 * | 0 | the connection closed with 1000, by either side |
 * | 1 | it could not be opened, or stdin, stdout or the command failed |
 * | 2 | the arguments were wrong |
 * | 3 | it closed with another code (the peer's 1001, 1011, 4000, ...; or ours, 1007 or 1009, for a bad frame from the peer) |
 * | 4 | it was lost: no close frame (1006) |
 * | 130, 143 | SIGINT, SIGTERM: the connection was closed (1000) first |
 *
 * @internal
 */
import { type ByteChannel, CloseCode, type CodecError, type MessageSocket, type Reconnect } from "@bytechannel/core"
import * as Predicate from "effect/Predicate"
import * as constants from "./constants.js"
import { CliError, describe } from "./errors.js"

/** @internal */
export type Signal = keyof typeof constants.EXIT_SIGNAL

/** @internal */
export interface Outcome {
  /** How the connection ended, when it was open. */
  readonly info?: MessageSocket.CloseInfo | undefined
  /** What failed: a `CliError`, a `SocketError` (could not open, or read failed), a `CodecError`. */
  readonly error?: CliError | ByteChannel.ReadError | CodecError.CodecError | Reconnect.NotSent | undefined
  /** The signal that stopped the run. */
  readonly signal?: Signal | undefined
  /** Why this side closed, when it did (`end of input`, `SIGINT`, ...). */
  readonly why?: string | undefined
  /**
   * This side ended normally with its connection closing as the scope closes (1000), though
   * the close itself is not observed here (`--reconnect` at the end of input).
   */
  readonly ended?: string | undefined
}

const quote = (reason: string) => (reason === "" ? "" : ` ${JSON.stringify(reason)}`)

/** `closed 4000 "bye" by the peer`, `connection lost (1006)`, ... */
export const describeClose = (info: MessageSocket.CloseInfo, why?: string): string => {
  if (info.code === CloseCode.Abnormal) return `connection lost (1006${info.local ? ", dropped by us" : ""})${why ? ` (${why})` : ""}`
  const by = info.local ? `by us${why && why !== info.reason ? ` (${why})` : ""}` : "by the peer"
  return `closed ${info.code}${quote(info.reason)} ${by}${info.wasClean ? "" : ", not clean"}`
}

/** The exit status of an outcome (see the module's table). */
export const exitStatus = (outcome: Outcome): number => {
  if (outcome.signal !== undefined) return constants.EXIT_SIGNAL[outcome.signal]
  const error = outcome.error
  if (error instanceof CliError) {
    if (error.reason === "Usage") return constants.EXIT_USAGE
    // A reader that went away (`| head`) ended the output as the user asked: the close says how it went.
    if (!(error.reason === "Stdout" && isBrokenPipe(error))) return constants.EXIT_FAILURE
  }
  const info = outcome.info
  if (info === undefined) return outcome.ended !== undefined && error === undefined ? constants.EXIT_OK : constants.EXIT_FAILURE
  // The peer closed with 1000, but its data ended inside a frame: what it sent did not all arrive.
  if (info.code === CloseCode.Normal && isCodecError(error)) return constants.EXIT_CLOSED
  if (info.code === CloseCode.Normal) return constants.EXIT_OK
  if (info.code === CloseCode.Abnormal) return constants.EXIT_LOST
  return constants.EXIT_CLOSED
}

// What the peer sent did not decode (a frame cut short at its close, too large, malformed).
const isCodecError = (error: unknown): error is CodecError.CodecError =>
  Predicate.isTagged(error, "FrameTooLarge") || Predicate.isTagged(error, "DecodeError")

/** Whether the error is the reader of stdout going away. */
export const isBrokenPipe = (error: CliError): boolean => {
  const cause = error.cause as { readonly code?: unknown } | undefined
  return cause?.code === "EPIPE" || error.detail.endsWith("was closed")
}

/** The lines written to stderr at the end. */
export const describeOutcome = (outcome: Outcome): ReadonlyArray<string> => {
  const lines: Array<string> = []
  if (outcome.error !== undefined) lines.push(`error: ${describe(outcome.error)}`)
  if (outcome.info !== undefined) lines.push(describeClose(outcome.info, outcome.why))
  else if (outcome.ended !== undefined) lines.push(outcome.ended)
  return lines
}

/** A close reason within the protocol's 123 bytes. */
export const clipReason = (reason: string): string => {
  const encoder = new TextEncoder()
  if (encoder.encode(reason).length <= CloseCode.MAX_REASON_BYTES) return reason
  let clipped = reason
  while (encoder.encode(`${clipped}...`).length > CloseCode.MAX_REASON_BYTES) clipped = clipped.slice(0, -1)
  return `${clipped}...`
}
