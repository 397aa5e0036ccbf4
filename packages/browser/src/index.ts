/**
 * @since 0.1.0
 */

/**
 * The browser `Connector`: WebSocketStream or WebSocket.
 *
 * @since 0.1.0
 */
export * as BrowserConnector from "./BrowserConnector.js"
