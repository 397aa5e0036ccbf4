/**
 * @since 0.1.0
 */

/**
 * A Node `Duplex` over a ByteChannel.
 *
 * @since 0.1.0
 */
export * as NodeByteChannel from "./NodeByteChannel.js"

/**
 * The Node `Connector`: ws, wss, tcp.
 *
 * @since 0.1.0
 */
export * as NodeConnector from "./NodeConnector.js"

/**
 * WebSocket and TCP servers.
 *
 * @since 0.1.0
 */
export * as NodeServer from "./NodeServer.js"
