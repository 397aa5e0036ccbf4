/**
 * The typed errors of a socket: opening, reading, writing, closing, and the
 * protocol rules a peer can break.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Predicate from "effect/Predicate"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@bytechannel/core/SocketError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * Why a socket operation failed.
 *
 * - `Open`: the connection could not be established (refused, DNS, TLS, HTTP refusal).
 * - `OpenTimeout`: the handshake did not finish within the open timeout.
 * - `Read`: the transport failed while receiving (protocol violation, reset).
 * - `Write`: the transport failed while sending.
 * - `Closed`: the connection is closed, or closed with a code that is not clean; `code` and
 *   `closeReason` say how.
 * - `ReceiveOverflow`: the peer sent more than the receive bound and the transport cannot pause.
 * - `SendTimeout`: a send waited `sendStallTimeout` with the send buffer not drained at all (the
 *   peer reads nothing); the connection is closed with 1008.
 *
 * @since 0.1.0
 * @category models
 */
export type SocketErrorReason = "Open" | "OpenTimeout" | "Read" | "Write" | "Closed" | "ReceiveOverflow" | "SendTimeout"

/**
 * @example
 * ```ts
 * import { ByteChannel } from "@bytechannel/core"
 * import { NodeConnector } from "@bytechannel/node"
 * import { Effect } from "effect"
 *
 * const program = ByteChannel.connect("ws://127.0.0.1:9/chat").pipe(
 *   Effect.scoped,
 *   Effect.provide(NodeConnector.layer),
 *   Effect.catchTag("SocketError", (error) =>
 *     // error.message: "Open: cannot connect to ws://127.0.0.1:9/chat: connect ECONNREFUSED 127.0.0.1:9"
 *     error.reason === "Open" && error.status === 401 ? Effect.logWarning("log in first") : Effect.fail(error))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SocketError extends Data.TaggedError("SocketError")<{
  readonly reason: SocketErrorReason
  /** The close code, when a close caused the error. */
  readonly code?: number | undefined
  /** The close reason, when a close caused the error. */
  readonly closeReason?: string | undefined
  /** The HTTP status of a refused handshake. */
  readonly status?: number | undefined
  /** The URL being opened, on `Open` and `OpenTimeout` errors of a connector. */
  readonly url?: string | undefined
  readonly cause?: unknown
  readonly detail?: string | undefined
}> {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * The reason, then what happened and the close code, reason and HTTP status that say how,
   * without the tag (the error's `name` already shows it), in the style of `@effect/platform`:
   * `Open: cannot connect to ws://127.0.0.1:9/: connect ECONNREFUSED 127.0.0.1:9`.
   *
   * @since 0.1.0
   */
  override get message(): string {
    const what = this.detail || (this.cause instanceof Error && this.cause.message) || undefined
    const facts: Array<string> = []
    if (this.code !== undefined) facts.push(`code ${this.code}${this.closeReason ? ` ${JSON.stringify(this.closeReason)}` : ""}`)
    else if (this.closeReason) facts.push(JSON.stringify(this.closeReason))
    if (this.status !== undefined && !what?.includes(`HTTP ${this.status}`)) facts.push(`HTTP ${this.status}`)
    const head = this.url !== undefined
      ? `cannot connect to ${this.url}${what ? `: ${what}` : ""}`
      : what ?? defaultDescription[this.reason]
    return `${this.reason}: ${head}${facts.length > 0 ? ` (${facts.join(", ")})` : ""}`
  }
}

const defaultDescription: Record<SocketErrorReason, string> = {
  Open: "cannot connect",
  OpenTimeout: "the opening handshake did not finish in time",
  Read: "receiving failed",
  Write: "sending failed",
  Closed: "the connection closed",
  ReceiveOverflow: "more unread data than the receive bound",
  SendTimeout: "the peer read nothing within the send stall timeout"
}

/**
 * @since 0.1.0
 * @category refinements
 */
export const isSocketError = (u: unknown): u is SocketError => Predicate.hasProperty(u, TypeId)

/**
 * @since 0.1.0
 * @category models
 */
export type ProtocolErrorReason = "UnexpectedText" | "InvalidUtf8"

/**
 * The peer broke a rule of this channel (for example a text message under `text: "error"`).
 * The channel is closed with the matching close code when this is raised.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{
  readonly reason: ProtocolErrorReason
  readonly detail?: string | undefined
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.reason}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type CloseArgumentErrorReason = "InvalidCode" | "ReasonTooLong"

/**
 * `close` was called with a code or reason that may not be sent: the code must be 1000 or in
 * 3000–4999, the reason at most 123 UTF-8 bytes. Raised before anything is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class CloseArgumentError extends Data.TaggedError("CloseArgumentError")<{
  readonly reason: CloseArgumentErrorReason
  readonly code: number
  readonly closeReason: string
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return this.reason === "InvalidCode"
      ? `InvalidCode: code ${this.code} may not be sent (use 1000 or 3000-4999)`
      : `ReasonTooLong: the close reason is longer than 123 UTF-8 bytes`
  }
}
