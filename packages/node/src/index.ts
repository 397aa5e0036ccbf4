/**
 * `@bytechannel/node`: the `Connector` for Node (`ws://`, `wss://`, `tcp://`), WebSocket and TCP
 * servers, and a Node `Duplex` over a channel. Each module is also its own entry point
 * (`@bytechannel/node/NodeServer`, ...).
 *
 * @module @bytechannel/node
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

/**
 * A `NodeServer` as an `effect/socket` `SocketServer`: code written against Effect's `Socket`
 * (`effect/rpc`'s socket protocol, for one) served by bytechannel's WebSocket or TCP server.
 *
 * @since 1.0.0
 */
export * as NodeSocketServer from "./NodeSocketServer.js"
