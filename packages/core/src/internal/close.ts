/**
 * The close rules every socket shares: which codes and reasons a close may carry, and the close
 * a scope runs when it ends.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as CloseCode from "../CloseCode.js"
import type * as MessageSocket from "../MessageSocket.js"
import { CloseArgumentError } from "../SocketError.js"

const utf8 = new TextEncoder()

/** @internal */
export const validateClose = (
  options: MessageSocket.CloseOptions | undefined,
  allowProtocolCodes = false
): Effect.Effect<{ readonly code: number; readonly reason: string }, CloseArgumentError> => {
  const code = options?.code ?? CloseCode.Normal
  const reason = options?.reason ?? ""
  if (!Number.isInteger(code) || !(allowProtocolCodes ? CloseCode.isSendable(code) : CloseCode.isApplicationCode(code))) {
    return Effect.fail(new CloseArgumentError({ reason: "InvalidCode", code, closeReason: reason }))
  }
  // Cheap length check first: a UTF-16 string of n units encodes to at most 3n bytes.
  if (reason.length * 3 > CloseCode.MAX_REASON_BYTES && utf8.encode(reason).length > CloseCode.MAX_REASON_BYTES) {
    return Effect.fail(new CloseArgumentError({ reason: "ReasonTooLong", code, closeReason: reason }))
  }
  return Effect.succeed({ code, reason })
}

/**
 * Closes `socket` when the scope closes: the handshake with its deadline, or a drop if the
 * close cannot run. Uninterruptible, whoever closes the scope.
 *
 * @internal
 */
export const closeOnScopeClose = (
  socket: MessageSocket.MessageSocket,
  options?: MessageSocket.CloseOptions
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) =>
    // Built when the scope closes: an open socket holds one closure for it, not the close itself.
    Scope.addFinalizerExit(scope, () =>
      socket.closeWithProtocolCode(options ?? {}).pipe(
        Effect.catch(() => socket.terminate),
        Effect.uninterruptible
      )))
