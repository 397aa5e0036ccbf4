/**
 * Effect `Metric`s every transport updates through the shared socket engine: messages and bytes
 * in and out, and open connections.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/**
 * @since 0.1.0
 * @category metrics
 */
export const messagesReceived = Metric.counter("bytechannel_messages_received", {
  description: "Messages received by bytechannel sockets",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const bytesReceived = Metric.counter("bytechannel_bytes_received", {
  description: "Bytes received by bytechannel sockets (text counted in UTF-16 units)",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const messagesSent = Metric.counter("bytechannel_messages_sent", {
  description: "Messages sent by bytechannel sockets",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const bytesSent = Metric.counter("bytechannel_bytes_sent", {
  description: "Bytes sent by bytechannel sockets (text counted in UTF-16 units)",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const openConnections = Metric.gauge("bytechannel_connections_open", {
  description: "bytechannel sockets currently open"
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const reconnects = Metric.counter("bytechannel_reconnects", {
  description: "Reconnection attempts made by Reconnect.sessions after a failure or a lost session",
  incremental: true
})
