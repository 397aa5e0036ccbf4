/**
 * Every limit and default of the browser package, in one place. The `"websocket"` strategy's
 * are core's (`WebSocketConnector`).
 *
 * @internal
 */

/** Default time the opening handshake may take. */
export const DEFAULT_OPEN_TIMEOUT_MILLIS = 10_000
