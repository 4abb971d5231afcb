// HPACK's two failures, as the HTTP/2 codec maps them (RFC 9113 §4.3, §6.5.2).

/** Malformed header block (bad index, bad Huffman, integer overflow, misplaced size update…):
 * the connection's compression context is lost — connection error COMPRESSION_ERROR. */
export class HpackError extends Error {
  readonly code = "COMPRESSION_ERROR";
  constructor(message: string) {
    super(`hpack: ${message}`);
    this.name = "HpackError";
  }
}

/** The decoded header list exceeded the decoder's maxListSize (name + value + 32 octets per
 * field, RFC 9113 §6.5.2). The block was still decoded to its end, so the dynamic table stays in
 * sync and the codec may refuse just the stream (431 or RST_STREAM) and keep the connection. */
export class HeaderListTooLarge extends Error {
  readonly code = "HEADER_LIST_TOO_LARGE";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(`hpack: header list of at least ${size} octets exceeds the limit of ${limit}`);
    this.name = "HeaderListTooLarge";
    this.size = size;
    this.limit = limit;
  }
}
