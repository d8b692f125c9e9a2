import { createHash, timingSafeEqual } from 'node:crypto';
import { EMPTY_SHA256, hmac } from './canonical.js';
import { CommonErrors } from '../errors.js';

/**
 * Decoder for `Content-Encoding: aws-chunked` bodies, the one part of S3's wire format the
 * service model cannot describe. Handles all four streaming modes:
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD           chunk signatures
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER   chunk signatures + signed trailer
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER           plain chunks + trailer (SDK default since 2025)
 *   STREAMING-AWS4-ECDSA-P256-SHA256-*           refused (SigV4a)
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 *
 * Data is yielded as it arrives; a bad signature, framing error or length mismatch throws,
 * and the consumer (the object writer) then discards what it wrote.
 */
export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface ChunkedOptions {
  /** Present when chunks (and the trailer) carry signatures. */
  signing?: ChunkSigning;
  /** x-amz-decoded-content-length, checked at the end. */
  decodedLength?: number;
  /** The trailing header the request declared in x-amz-trailer; its absence is an error. */
  trailerExpected?: string;
  /** Receives the trailing headers (lower-cased names). */
  onTrailers?: (trailers: Record<string, string>) => void;
}

const MAX_LINE = 4096;
const CRLF = Buffer.from('\r\n');

function badChunk(message = 'An error occurred when parsing the HTTP request.'): Error {
  return CommonErrors.IncompleteBody({ message });
}

export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, opts: ChunkedOptions): AsyncGenerator<Buffer> {
  const signing = opts.signing;
  let prevSig = signing?.seedSignature ?? '';
  let buf: Buffer = Buffer.alloc(0);
  let total = 0;
  // state: 'header' reading a size line; 'data' inside a chunk; 'crlf' after data; 'trailer' after the 0 chunk
  type State = 'header' | 'data' | 'crlf' | 'trailer' | 'done';
  let state = 'header' as State;
  let remaining = 0;
  let chunkSig = '';
  let chunkHash = signing ? createHash('sha256') : undefined;
  const trailers: Record<string, string> = {};
  const trailerLines: string[] = [];
  let trailerSig: string | undefined;

  const verifyChunk = (hashHex: string) => {
    if (!signing) return;
    const sts = `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${prevSig}\n${EMPTY_SHA256}\n${hashHex}`;
    const expected = hmac(signing.key, sts);
    const provided = Buffer.from(chunkSig, 'hex');
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      throw CommonErrors.SignatureDoesNotMatch({ message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' });
    }
    prevSig = chunkSig;
  };

  for await (const piece of source) {
    buf = buf.length ? Buffer.concat([buf, piece]) : piece;
    let pos = 0;
    while (pos < buf.length && state !== 'done') {
      if (state === 'data') {
        const n = Math.min(remaining, buf.length - pos);
        const data = buf.subarray(pos, pos + n);
        chunkHash?.update(data);
        pos += n;
        remaining -= n;
        total += n;
        yield data;
        if (remaining === 0) state = 'crlf';
        continue;
      }
      if (state === 'crlf') {
        if (buf.length - pos < 2) break;
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw badChunk();
        pos += 2;
        if (chunkHash) verifyChunk(chunkHash.digest('hex'));
        chunkHash = signing ? createHash('sha256') : undefined;
        state = 'header';
        continue;
      }
      const eol = buf.indexOf(CRLF, pos);
      if (eol < 0) {
        if (buf.length - pos > MAX_LINE) throw badChunk();
        break;
      }
      const line = buf.toString('latin1', pos, eol);
      pos = eol + 2;
      if (state === 'header') {
        const semi = line.indexOf(';');
        const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw badChunk();
        remaining = parseInt(sizeText, 16);
        chunkSig = '';
        if (semi >= 0) {
          const ext = line.slice(semi + 1);
          if (ext.startsWith('chunk-signature=')) chunkSig = ext.slice(16);
        }
        if (signing && !chunkSig) throw badChunk('Chunk signature missing.');
        if (remaining === 0) {
          if (signing) verifyChunk(EMPTY_SHA256);
          state = 'trailer';
        } else {
          state = 'data';
        }
        continue;
      }
      // trailer section: "name:value" lines, ended by an empty line
      if (line === '') {
        state = 'done';
        break;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw badChunk();
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'x-amz-trailer-signature') {
        trailerSig = value;
      } else {
        trailers[name] = value;
        trailerLines.push(`${name}:${value}\n`);
      }
      if (Object.keys(trailers).length > 16) throw badChunk();
    }
    buf = pos < buf.length ? buf.subarray(pos) : Buffer.alloc(0);
    if (state === 'done') break;
  }
  // A client may end the body right after the final chunk when it has no trailer.
  if (state !== 'done' && !(state === 'trailer' && buf.length === 0 && trailerLines.length === 0)) {
    throw CommonErrors.IncompleteBody();
  }
  if (signing && trailerLines.length > 0) {
    if (!trailerSig) throw CommonErrors.SignatureDoesNotMatch({ message: 'The trailer signature is missing.' });
    const hash = createHash('sha256').update(trailerLines.join('')).digest('hex');
    const sts = `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${prevSig}\n${hash}`;
    const expected = hmac(signing.key, sts);
    const provided = Buffer.from(trailerSig, 'hex');
    if (provided.length !== expected.length || !timingSafeEqual(provided, expected)) {
      throw CommonErrors.SignatureDoesNotMatch({ message: 'The trailer signature we calculated does not match the signature you provided.' });
    }
  }
  if (opts.trailerExpected && trailers[opts.trailerExpected.toLowerCase()] === undefined) {
    throw CommonErrors.InvalidRequest({ message: `The trailing header ${opts.trailerExpected} was declared in x-amz-trailer but not sent.` });
  }
  if (opts.decodedLength !== undefined && total !== opts.decodedLength) {
    throw CommonErrors.IncompleteBody({ message: 'You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.' });
  }
  opts.onTrailers?.(trailers);
}
