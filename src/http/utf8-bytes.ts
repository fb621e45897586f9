/** Response bodies as UTF-8 bytes (see utf8Bytes). */

/**
 * `text` as UTF-8 in one pass over it. Handed a string, Fastify measures its UTF-8 length for Content-Length
 * (Buffer.byteLength, a pass over all of it) and the socket then encodes it (a second pass); Buffer.from also
 * measures before it encodes. A listing page is ~45 KB of text, and with a single character outside Latin-1 (a dash,
 * a typographic quote) V8 holds it as UTF-16, where each pass is slow: byteLength was ~5 % of the older page's API
 * CPU in the profile (bench/README.md, "Older keyset page"). Written into room for 1.25 bytes a character (Norwegian
 * text needs ~1.02); whether all of it fitted the bytes written tell (write() never writes part of a character, and
 * a character needs at most 4 bytes), and when not it is encoded again with its length measured.
 */
export function utf8Bytes(text: string): Buffer {
  const room = Buffer.allocUnsafe(Math.ceil(text.length * 1.25) + 4);
  const written = room.write(text, 'utf8');
  return written <= room.length - 4 ? room.subarray(0, written) : Buffer.from(text, 'utf8');
}
