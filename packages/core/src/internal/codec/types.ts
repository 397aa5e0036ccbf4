/**
 * The shape of the plain codec loops: an incremental decoder over byte chunks and a one-frame
 * encoder, in plain TypeScript. They answer "need more" (`undefined`, with any frames pushed), "a
 * frame" (pushed to `out`) or "an error" (a `Failure`, plain data); the Effect shell
 * (`internal/codec.ts`) turns a `Failure` into the public `CodecError` of the same tag.
 *
 * @internal
 */
import type { DecodeErrorFields, EncodeErrorFields, FrameTooLargeFields } from "../../CodecError.js"

export type { DecodeErrorFields, EncodeErrorFields, FrameTooLargeFields }

/**
 * Why a codec stopped, as plain data: the shell builds the public error of the same `_tag` from
 * `fields`. `error` is set when the failure came from a codec written against the public interface
 * (it already is the public error, and is handed on as it is).
 *
 * @internal
 */
export type Failure =
  | { readonly _tag: "FrameTooLarge"; readonly fields: FrameTooLargeFields; readonly error?: unknown }
  | { readonly _tag: "DecodeError"; readonly fields: DecodeErrorFields; readonly error?: unknown }
  | { readonly _tag: "EncodeError"; readonly fields: EncodeErrorFields; readonly error?: unknown }

/** @internal */
export const frameTooLarge = (fields: FrameTooLargeFields): Failure => ({ _tag: "FrameTooLarge", fields })

/** @internal */
export const decodeError = (fields: DecodeErrorFields): Failure => ({ _tag: "DecodeError", fields })

/** @internal */
export const encodeError = (fields: EncodeErrorFields): Failure => ({ _tag: "EncodeError", fields })

/**
 * A stateful, incremental decoder: no Effect per byte or per frame.
 *
 * @internal
 */
export interface PlainDecoder<A> {
  /**
   * Decodes what `chunk` completes and pushes the frames to `out`. Returns a failure to stop;
   * after one the decoder stays failed (and returns the same failure). Frames may be views into
   * `chunk`; bytes kept across calls are copied.
   */
  decode(chunk: Uint8Array, out: Array<A>): Failure | undefined
  /** End of input: pushes a final frame (a tail line) or reports a truncated frame. */
  end(out: Array<A>): Failure | undefined
  /** Bytes held across chunks, for the bounds tests (absent: none). */
  readonly retained?: number | undefined
}

/**
 * A codec as plain loops; the shell makes it the public `Codec`.
 *
 * @internal
 */
export interface PlainCodec<A> {
  /** A short name for diagnostics: `lines`, `lengthDelimited`, `ndjson`, ... */
  readonly name: string
  /** A fresh decoder, one per stream. */
  readonly decoder: () => PlainDecoder<A>
  /** One value as the bytes of one frame (prefix and payload together), or why it cannot be. */
  readonly encode: (value: A) => Uint8Array | Failure
}

/**
 * Whether an encoder refused: a frame is always a byte array (from any realm, hence `isView` rather
 * than `instanceof`), a failure never is.
 *
 * @internal
 */
export const isFailure = (result: Uint8Array | Failure): result is Failure => !ArrayBuffer.isView(result)
