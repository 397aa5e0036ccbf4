/**
 * `@bytechannel/redis`: the `Hub` (`@bytechannel/core`) across server processes through Redis
 * Streams, so a server can grow past one process.
 *
 * @module @bytechannel/redis
 * @since 0.1.0
 */

/**
 * The `Hub` through Redis Streams.
 *
 * @since 0.1.0
 */
export * as RedisHub from "./RedisHub.js"
