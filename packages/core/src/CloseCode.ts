/**
 * WebSocket close codes (RFC 6455 §7.4.1) by name, the rules for which codes may be sent, and
 * how a browser — which may only send 1000 and 3000–4999 — puts any other code on the wire.
 * Every package refers to codes through this module, as `ws` does through its constants.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category codes
 */
export const Normal = 1000
/** An endpoint is going away: a server shutting down, a page navigating away. @since 0.1.0 @category codes */
export const GoingAway = 1001
/** @since 0.1.0 @category codes */
export const ProtocolError = 1002
/** Data of a type the endpoint cannot accept (e.g. text under `text: "error"`). @since 0.1.0 @category codes */
export const UnsupportedData = 1003
/** No code was in the close frame. Reported, never sent. @since 0.1.0 @category codes */
export const NoStatus = 1005
/** The connection was lost without a close frame. Reported, never sent. @since 0.1.0 @category codes */
export const Abnormal = 1006
/** Data that does not decode (invalid UTF-8, a frame a codec rejects). @since 0.1.0 @category codes */
export const InvalidPayload = 1007
/** @since 0.1.0 @category codes */
export const PolicyViolation = 1008
/** A message or frame over a bound. @since 0.1.0 @category codes */
export const MessageTooBig = 1009
/** @since 0.1.0 @category codes */
export const MandatoryExtension = 1010
/** The endpoint failed (a handler that failed). @since 0.1.0 @category codes */
export const InternalError = 1011
/** @since 0.1.0 @category codes */
export const ServiceRestart = 1012
/** Try again later (e.g. over `maxConnections`). @since 0.1.0 @category codes */
export const TryAgainLater = 1013
/** @since 0.1.0 @category codes */
export const BadGateway = 1014
/** The TLS handshake failed. Reported, never sent. @since 0.1.0 @category codes */
export const TlsHandshake = 1015

/**
 * The largest close reason, in UTF-8 bytes: a close frame's payload is at most 125 bytes, two of
 * them the code.
 *
 * @since 0.1.0
 * @category limits
 */
export const MAX_REASON_BYTES = 123

/**
 * Codes an application may send (what a browser's `WebSocket.close` accepts): 1000 and
 * 3000–4999.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isApplicationCode = (code: number): boolean =>
  code === Normal || (Number.isInteger(code) && code >= 3000 && code <= 4999)

/**
 * Codes an endpoint may put in a close frame: the application's, and the protocol's own
 * 1001–1003 and 1007–1014. 1004 is reserved; 1005, 1006 and 1015 are only ever reported.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSendable = (code: number): boolean =>
  isApplicationCode(code) || (code >= GoingAway && code <= UnsupportedData) || (code >= InvalidPayload && code <= BadGateway)

/**
 * `reason` cut to at most `maxBytes` UTF-8 bytes, never inside a character (a surrogate pair
 * is one 4-byte character; a lone surrogate counts 3, as it is sent as U+FFFD).
 *
 * @since 0.1.0
 * @category utils
 */
export const truncateReason = (reason: string, maxBytes: number = MAX_REASON_BYTES): string => {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: short strings need no counting.
  if (reason.length * 3 <= maxBytes) return reason
  let bytes = 0
  for (let i = 0; i < reason.length; i++) {
    const unit = reason.charCodeAt(i)
    const pair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < reason.length &&
      (reason.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    const size = pair ? 4 : unit < 0x80 ? 1 : unit < 0x800 ? 2 : 3
    if (bytes + size > maxBytes) return reason.slice(0, i)
    bytes += size
    if (pair) i++
  }
  return reason
}

/**
 * What a browser puts on the wire for a close it may not send as is: an application code goes
 * unchanged; any other (1001, 1009, 1011, ...) becomes 1000 with the code in the reason
 * (`"1009: receive buffer full"`), cut to {@link MAX_REASON_BYTES}.
 *
 * @since 0.1.0
 * @category browser
 */
export const toBrowserWire = (code: number, reason: string): { readonly code: number; readonly reason: string } =>
  isApplicationCode(code)
    ? { code, reason: truncateReason(reason) }
    : { code: Normal, reason: truncateReason(`${code}${reason ? `: ${reason}` : ""}`) }
