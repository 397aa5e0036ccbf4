import * as Effect from "effect/Effect"
import { SocketError } from "../SocketError.js"

const openError = (detail: string, cause?: unknown) => new SocketError({ reason: "Open", detail, cause })

/** @internal */
export const protocolList = (protocols: string | ReadonlyArray<string> | undefined): Array<string> =>
  protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols]

/** The schemes an error lists: `http:`/`https:` beside the WebSocket schemes they stand for. */
const supported = (schemes: ReadonlyArray<string>): string =>
  `supported schemes: ${schemes.flatMap((scheme) => scheme === "wss:" ? ["wss:", "http:", "https:"] : [scheme]).join(", ")}`

/** @internal */
export const parseUrl = (
  url: string | URL,
  options: { readonly schemes: ReadonlyArray<string>; readonly base?: string | undefined }
): Effect.Effect<URL, SocketError> =>
  Effect.suspend(() => {
    const text = String(url)
    if (text.trim() === "") return Effect.fail(openError(`empty URL (${supported(options.schemes)})`))
    let parsed: URL
    try {
      parsed = new URL(text, options.base)
    } catch (cause) {
      return Effect.fail(openError(`invalid URL ${JSON.stringify(text)} (${supported(options.schemes)})`, cause))
    }
    // WHATWG WebSocket and ws refuse a fragment by throwing: here it is a typed error.
    if (parsed.hash !== "") return Effect.fail(openError(`a WebSocket URL has no fragment: ${JSON.stringify(text)}`))
    if (parsed.protocol === "http:" || parsed.protocol === "https:") parsed.protocol = parsed.protocol === "http:" ? "ws:" : "wss:"
    if (!options.schemes.includes(parsed.protocol)) {
      // `localhost:80` parses as the scheme `localhost:`.
      const hint = /^[\w.-]+:\d+(\/|$)/.test(text) ? `; did you mean "ws://${text}"?` : ""
      return Effect.fail(
        openError(`unsupported URL scheme "${parsed.protocol}" in ${JSON.stringify(text)} (${supported(options.schemes)})${hint}`)
      )
    }
    return Effect.succeed(parsed)
  })

/** The URL as errors show it: a password in it is masked (errors end up in logs). */
const redacted = (url: URL): string => {
  if (url.password === "") return url.href
  const copy = new URL(url.href)
  copy.password = "***"
  return copy.href
}

/** @internal */
export const withUrl = (url: URL) => (error: SocketError): SocketError =>
  (error.reason === "Open" || error.reason === "OpenTimeout") && error.url === undefined
    ? new SocketError({
      reason: error.reason,
      url: redacted(url),
      code: error.code,
      closeReason: error.closeReason,
      status: error.status,
      detail: error.detail,
      cause: error.cause
    })
    : error
