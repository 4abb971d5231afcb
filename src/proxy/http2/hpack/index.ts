// HPACK (RFC 7541): the header compression of Amime's own HTTP/2 framing (src/proxy/http2/codec/).
// A room of its own with no imports from the rest of the proxy: the codec hands it complete
// header blocks (HEADERS + CONTINUATION joined, padding and priority removed) and gets a flat
// name, value, … list back; for responses it hands a flat list and gets the block's octets.
// The decoder is complete (static and dynamic tables, size updates, Huffman); the encoder uses
// the static table, a dynamic table for repeated response fields, and never indexes credentials.
//
// API note: HpackEncoder.encode returns -1 when `out` has less room than the block's worst case
// (Σ field lengths + 5.5 octets per name and per value + 12), before touching any state — the
// caller grows `out` to at least that and retries.
export { HeaderListTooLarge, HpackError } from "./errors.ts";
export { HpackDecoder } from "./decoder.ts";
export { HpackEncoder } from "./encoder.ts";
