/**
 * A minimal MP4 (ISO BMFF) writer for one H.264 video track — what WebCodecs' `VideoEncoder`
 * produces with `avc: { format: 'avc' }`: length-prefixed NAL units per frame and the
 * `AVCDecoderConfigurationRecord` (`avcC`) as `decoderConfig.description`. Constant frame rate,
 * samples in presentation order (no B-frames: no composition offsets), no edit list, the index
 * (`moov`) before the data (`mdat`) so players can start at once.
 * Pure bytes: no DOM.
 */

/** One encoded frame. */
export interface Mp4Sample {
  readonly data: Uint8Array;
  /** A sync sample (IDR frame). */
  readonly key: boolean;
}

/** What {@link muxMp4} needs besides the samples. */
export interface Mp4Track {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** The `avcC` payload (`AVCDecoderConfigurationRecord`). */
  readonly avcC: Uint8Array;
}

class Bytes {
  private parts: Uint8Array[] = [];
  size = 0;
  push(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  u8(v: number): this {
    return this.push(Uint8Array.of(v & 0xff));
  }
  u16(v: number): this {
    return this.push(Uint8Array.of((v >>> 8) & 0xff, v & 0xff));
  }
  u32(v: number): this {
    return this.push(Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
  }
  zeros(n: number): this {
    return this.push(new Uint8Array(n));
  }
  ascii(s: string): this {
    return this.push(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function box(type: string, ...content: (Uint8Array | Bytes)[]): Uint8Array {
  const body = new Bytes();
  for (const c of content) body.push(c instanceof Bytes ? c.join() : c);
  return new Bytes().u32(8 + body.size).ascii(type).push(body.join()).join();
}

function fullBox(type: string, version: number, flags: number, ...content: (Uint8Array | Bytes)[]): Uint8Array {
  return box(type, new Bytes().u8(version).u8(flags >>> 16).u16(flags & 0xffff), ...content);
}

const MATRIX = new Bytes().u32(0x00010000).u32(0).u32(0).u32(0).u32(0x00010000).u32(0).u32(0).u32(0).u32(0x40000000);

/**
 * The MP4 file of an H.264 track: `ftyp` (isom, avc1), `moov` with one track (timescale
 * `fps·1000`, each sample 1000 ticks long), then `mdat` with the samples in order.
 */
export function muxMp4(track: Mp4Track, samples: readonly Mp4Sample[]): Uint8Array {
  const { width, height, fps } = track;
  const timescale = Math.round(fps * 1000);
  const delta = 1000;
  const duration = samples.length * delta;
  const ftyp = box('ftyp', new Bytes().ascii('isom').u32(0x200).ascii('isomiso2avc1mp41'));
  const mvhd = fullBox('mvhd', 0, 0, new Bytes().u32(0).u32(0).u32(timescale).u32(duration).u32(0x00010000).u16(0x0100).zeros(10).push(MATRIX.join()).zeros(24).u32(2));
  const tkhd = fullBox('tkhd', 0, 3, new Bytes().u32(0).u32(0).u32(1).u32(0).u32(duration).zeros(8).u16(0).u16(0).u16(0).u16(0).push(MATRIX.join()).u32(width << 16).u32(height << 16));
  const mdhd = fullBox('mdhd', 0, 0, new Bytes().u32(0).u32(0).u32(timescale).u32(duration).u16(0x55c4).u16(0));
  const hdlr = fullBox('hdlr', 0, 0, new Bytes().u32(0).ascii('vide').zeros(12).ascii('VideoHandler').u8(0));
  const vmhd = fullBox('vmhd', 0, 1, new Bytes().zeros(8));
  const dinf = box('dinf', fullBox('dref', 0, 0, new Bytes().u32(1), fullBox('url ', 0, 1)));
  const avc1 = box(
    'avc1',
    new Bytes()
      .zeros(6)
      .u16(1)
      .zeros(16)
      .u16(width)
      .u16(height)
      .u32(0x00480000)
      .u32(0x00480000)
      .u32(0)
      .u16(1)
      .zeros(32)
      .u16(0x18)
      .u16(0xffff),
    box('avcC', track.avcC),
  );
  const stsd = fullBox('stsd', 0, 0, new Bytes().u32(1), avc1);
  const stts = fullBox('stts', 0, 0, new Bytes().u32(1).u32(samples.length).u32(delta));
  const keys = samples.map((s, i) => (s.key ? i + 1 : 0)).filter((i) => i > 0);
  const stssBody = new Bytes().u32(keys.length);
  for (const k of keys) stssBody.u32(k);
  const stss = fullBox('stss', 0, 0, stssBody);
  const stsc = fullBox('stsc', 0, 0, new Bytes().u32(1).u32(1).u32(samples.length).u32(1));
  const stszBody = new Bytes().u32(0).u32(samples.length);
  for (const s of samples) stszBody.u32(s.data.length);
  const stsz = fullBox('stsz', 0, 0, stszBody);
  // One chunk holding every sample; its offset is known once moov's size is.
  const build = (offset: number) => {
    const stco = fullBox('stco', 0, 0, new Bytes().u32(1).u32(offset));
    const stbl = box('stbl', stsd, stts, stss, stsc, stsz, stco);
    const minf = box('minf', vmhd, dinf, stbl);
    const mdia = box('mdia', mdhd, hdlr, minf);
    const trak = box('trak', tkhd, mdia);
    return box('moov', mvhd, trak);
  };
  const moovSize = build(0).length;
  const moov = build(ftyp.length + moovSize + 8);
  const mdatBody = new Bytes();
  for (const s of samples) mdatBody.push(s.data);
  const mdat = new Bytes().u32(8 + mdatBody.size).ascii('mdat').push(mdatBody.join()).join();
  return new Bytes().push(ftyp).push(moov).push(mdat).join();
}
