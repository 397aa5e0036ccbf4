/**
 * `@bytechannel/browser`: the `Connector` for browsers, over `WebSocketStream` or `WebSocket`.
 * Also its own entry point: `@bytechannel/browser/BrowserConnector`.
 *
 * @module @bytechannel/browser
 * @since 0.1.0
 */

/**
 * The browser `Connector`: WebSocketStream or WebSocket.
 *
 * @since 0.1.0
 */
export * as BrowserConnector from "./BrowserConnector.js"
