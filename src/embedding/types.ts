/** A sparse vector: parallel arrays of indices (ascending, unique) and values. */
export interface SparseVector {
  readonly indices: Uint32Array;
  readonly values: Float32Array;
}

/** Dense for transformer embeddings, sparse for hashed lexical features. */
export type Vector = Float32Array | SparseVector;

export function isSparse(v: Vector): v is SparseVector {
  return !(v instanceof Float32Array);
}

/** Turns texts into fixed-dimension vectors. Implementations batch internally. */
export interface Embedder {
  /** Which embedder this is: 'onnx' or 'lexical'. */
  readonly kind: 'onnx' | 'lexical';
  /** Output dimension. */
  readonly dimension: number;
  /**
   * Identifies the vector space (model bytes + every parameter that changes the output):
   * a head trained on one fingerprint is refused by an embedder with another.
   */
  readonly fingerprint: string;
  embed(texts: readonly string[]): Promise<Vector[]>;
  close?(): Promise<void>;
}
