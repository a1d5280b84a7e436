/** A block's limits (codec.ts): shared by the store and the import. */
export const MAX_BLOCK_INPUTS = 256;
/** A block spans at most an hour: the age bound then drops inputs at most an hour late. */
export const MAX_BLOCK_SPAN_MS = 3_600_000;
