/**
 * Image dimensions read from the header alone — PNG's IHDR, JPEG's start-of-frame marker — so a small file
 * declaring a huge image (a decompression bomb) is refused before a decoder allocates for it.
 */

export interface ImageHeader {
  format: 'PNG' | 'JPEG';
  width: number;
  height: number;
}

/**
 * Pixels above which an image is refused: PIL's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS` × 2, where
 * PIL raises instead of warning), ≈ 179 million pixels, e.g. 13,000 × 13,000 (≈ 716 MB as RGBA).
 */
export const MAX_IMAGE_PIXELS = 2 * 89_478_485;

/** How many bytes decoding an image of `pixels` pixels may hold at once: the inflated rows and the RGBA copy, with the resize. */
export function decodePeakBytes(pixels: number): number {
  return 3 * 4 * pixels;
}

/**
 * Width and height from a PNG's IHDR chunk or a JPEG's SOFn segment; undefined when the header cannot be
 * found (the decoder will then report the file as damaged).
 */
export function readImageHeader(buf: Uint8Array): ImageHeader | undefined {
  if (buf.length >= 24 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) {
    // 8-byte signature, then the IHDR chunk: length (4), type 'IHDR' (4), width (4, BE), height (4, BE).
    if (buf[12] !== 0x49 || buf[13] !== 0x48 || buf[14] !== 0x44 || buf[15] !== 0x52) return undefined;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return { format: 'PNG', width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (buf.length >= 4 && buf[0] === 0xff && buf[1] === 0xd8) {
    let p = 2;
    while (p + 4 <= buf.length) {
      if (buf[p] !== 0xff) return undefined;
      const marker = buf[p + 1];
      if (marker === 0xff) {
        p++; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2; // markers without a length
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / start of scan before any frame
      const len = (buf[p + 2] << 8) | buf[p + 3];
      if (len < 2) return undefined;
      // SOF0…SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision (1), height (2), width (2).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (p + 9 > buf.length) return undefined;
        return { format: 'JPEG', height: (buf[p + 5] << 8) | buf[p + 6], width: (buf[p + 7] << 8) | buf[p + 8] };
      }
      p += 2 + len;
    }
  }
  return undefined;
}
