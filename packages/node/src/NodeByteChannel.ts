/**
 * A Node `Duplex` over a `ByteChannel`, for code written against Node streams, with
 * backpressure both ways: reads pull one chunk when the stream asks, writes complete when the
 * channel accepted the bytes.
 *
 * @since 0.1.0
 */
import type { ByteChannel } from "@bytechannel/core"
import type { Duplex } from "node:stream"
import * as internal from "./internal/duplex.js"

/**
 * Ending the writable side closes the channel with 1000; destroying the stream with an error
 * closes it with 1011.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDuplex: (channel: ByteChannel.ByteChannel) => Duplex = internal.toDuplex
