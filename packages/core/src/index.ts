/**
 * `@bytechannel/core`: a message socket as an ordered, backpressured byte stream
 * (`ByteChannel`), the `Connector` service that opens one, codecs and typed messages on top,
 * reconnection, and an in-memory transport for tests. Each module is also its own entry point
 * (`@bytechannel/core/ByteChannel`, ...).
 *
 * @module @bytechannel/core
 * @since 0.1.0
 */

/**
 * A message socket used as an ordered byte stream.
 *
 * @since 0.1.0
 */
export * as ByteChannel from "./ByteChannel.js"

/**
 * Incremental, bounded codecs.
 *
 * @since 0.1.0
 */
export * as Codec from "./Codec.js"

/**
 * Typed codec errors.
 *
 * @since 0.1.0
 */
export * as CodecError from "./CodecError.js"

/**
 * WebSocket close codes by name, which may be sent, and the browser wire mapping.
 *
 * @since 0.1.0
 */
export * as CloseCode from "./CloseCode.js"

/**
 * The socket service.
 *
 * @since 0.1.0
 */
export * as Connector from "./Connector.js"

/**
 * Typed messages over a byte channel.
 *
 * @since 0.1.0
 */
export * as Framed from "./Framed.js"

/**
 * Topics shared by the connections of a server.
 *
 * @since 0.1.0
 */
export * as Hub from "./Hub.js"

/**
 * One keepalive for every transport: probes, signs of life, a deadline.
 *
 * @since 0.1.0
 */
export * as Keepalive from "./Keepalive.js"

/**
 * Two connected message sockets in memory.
 *
 * @since 0.1.0
 */
export * as MemorySocket from "./MemorySocket.js"

/**
 * The per-connection transport contract.
 *
 * @since 0.1.0
 */
export * as MessageSocket from "./MessageSocket.js"

/**
 * Reconnection driven by an Effect Schedule.
 *
 * @since 0.1.0
 */
export * as Reconnect from "./Reconnect.js"

/**
 * Socket metrics.
 *
 * @since 0.1.0
 */
export * as SocketMetrics from "./SocketMetrics.js"

/**
 * Typed socket errors.
 *
 * @since 0.1.0
 */
export * as SocketError from "./SocketError.js"

/**
 * For transport authors: a transport is one short function over the shared engine.
 *
 * @since 0.1.0
 */
export * as Transport from "./Transport.js"

/**
 * The server service: one server program on every runtime.
 *
 * @since 1.0.0
 */
export * as Server from "./Server.js"

/**
 * A `Connector` served in memory.
 *
 * @since 0.1.0
 */
export * as TestConnector from "./TestConnector.js"

/**
 * The `Connector` for any runtime with a WHATWG `WebSocket` (Bun, Deno, Node 22, browsers).
 *
 * @since 1.0.0
 */
export * as WebSocketConnector from "./WebSocketConnector.js"

/**
 * A WHATWG `WebSocket` (client or server side) as a `MessageSocket`.
 *
 * @since 1.0.0
 */
export * as WebSocketTransport from "./WebSocketTransport.js"
