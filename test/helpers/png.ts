import assert from 'node:assert/strict';
import { crc32, inflateSync } from 'node:zlib';

/**
 * A small PNG reader for tests (8-bit greyscale, RGB, palette, with or without alpha):
 * checks the signature and every chunk's CRC, inflates IDAT, undoes the row filters, and
 * reads a QR code's module matrix back out of the pixels.
 */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface Png {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  chunkTypes: string[];
  /** Luminance 0–255 of a pixel (transparent counts as white). */
  lum(x: number, y: number): number;
}

export function decodePng(buf: Buffer): Png {
  assert.deepEqual(buf.subarray(0, 8), PNG_SIGNATURE, 'PNG signature');
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let plte: Buffer | undefined;
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    assert.equal(crc32(buf.subarray(off + 4, off + 8 + len)) >>> 0, buf.readUInt32BE(off + 8 + len), `CRC of ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    else if (type === 'PLTE') plte = data;
    else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  assert.equal(chunkTypes[0], 'IHDR', 'IHDR comes first');
  assert.equal(chunkTypes.at(-1), 'IEND', 'IEND comes last');
  const width = ihdr!.readUInt32BE(0);
  const height = ihdr!.readUInt32BE(4);
  const bitDepth = ihdr![8]!;
  const colorType = ihdr![9]!;
  assert.equal(ihdr![12], 0, 'not interlaced');
  assert.equal(bitDepth, 8, 'this reader handles 8-bit samples');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  assert.ok(channels, `colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  assert.equal(raw.length, height * (stride + 1), 'image data size');
  const px = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[y * stride + i - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? px[(y - 1) * stride + i - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else assert.equal(filter, 0, `row filter ${filter}`);
      px[y * stride + i] = (row[i]! + pred) & 255;
    }
  }
  const lum = (x: number, y: number): number => {
    const o = y * stride + x * channels;
    if (colorType === 0) return px[o]!;
    if (colorType === 4) return px[o + 1]! < 128 ? 255 : px[o]!;
    if (colorType === 3) {
      const i = px[o]! * 3;
      return (plte![i]! + plte![i + 1]! + plte![i + 2]!) / 3;
    }
    if (colorType === 6 && px[o + 3]! < 128) return 255;
    return (px[o]! + px[o + 1]! + px[o + 2]!) / 3;
  };
  return { width, height, bitDepth, colorType, chunkTypes, lum };
}

/**
 * The dark/light modules of the QR code in a PNG: finds the top-left finder pattern (its
 * 7-module top edge gives the scale, its corner the quiet zone) and samples each module's centre.
 */
export function qrModules(png: Png): boolean[][] {
  const dark = (x: number, y: number) => png.lum(x, y) < 128;
  let start = -1;
  for (let d = 0; d < Math.min(png.width, png.height) && start < 0; d++) if (dark(d, d)) start = d;
  assert.ok(start >= 0, 'a dark module on the diagonal (the finder pattern)');
  let run = 0;
  while (start + run < png.width && dark(start + run, start)) run++;
  assert.equal(run % 7, 0, 'the finder pattern is 7 modules wide');
  const scale = run / 7;
  const size = (png.width - 2 * start) / scale;
  assert.ok(Number.isInteger(size) && (size - 17) % 4 === 0, `a QR symbol size (got ${size})`);
  const out: boolean[][] = [];
  for (let r = 0; r < size; r++) {
    out.push([]);
    for (let c = 0; c < size; c++) out[r]!.push(dark(start + c * scale + Math.floor(scale / 2), start + r * scale + Math.floor(scale / 2)));
  }
  return out;
}
