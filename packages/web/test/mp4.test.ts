import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Mp4Sample, muxMp4 } from '@da3js/web';
import { afterAll, describe, expect, it } from 'vitest';
import { requireTool } from '../../../test-utils/tools.js';

/**
 * muxMp4 without a browser: an H.264 stream from ffmpeg (Annex B, no B-frames, as WebCodecs'
 * encoders give) is split into frames, turned into the AVC format WebCodecs outputs
 * (length-prefixed NAL units + avcC), muxed, and read back by ffprobe and decoded by ffmpeg.
 */
const work = mkdtempSync(join(tmpdir(), 'da3js-mp4-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const HAVE = ['ffmpeg', 'ffprobe'].every((t) => spawnSync(t, ['-version'], { stdio: 'ignore' }).status === 0);

/** NAL units of an Annex B stream (start codes 00 00 01 / 00 00 00 01 removed). */
function nalUnits(b: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1) starts.push(i + 3);
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1] - 3 : b.length;
    while (end > s && b[end - 1] === 0) end--;
    return b.subarray(s, end);
  });
}

describe('muxMp4', () => {
  it('writes an MP4 ffprobe reads (frames, size, 24 fps, keyframes) and ffmpeg decodes', (ctx) => {
    if (!requireTool(ctx, HAVE, 'ffmpeg/ffprobe not found: apt-get install ffmpeg')) return;
    const h264 = join(work, 'in.h264');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=24', '-frames:v', '30', '-c:v', 'libx264', '-bf', '0', '-g', '12', '-pix_fmt', 'yuv420p', '-f', 'h264', '-y', h264]);
    let sps: Uint8Array | undefined;
    let pps: Uint8Array | undefined;
    const samples: Mp4Sample[] = [];
    let pending: Uint8Array[] = [];
    for (const nal of nalUnits(new Uint8Array(readFileSync(h264)))) {
      const type = nal[0] & 0x1f;
      if (type === 7) sps = nal;
      else if (type === 8) pps = nal;
      else {
        pending.push(nal);
        if (type === 1 || type === 5) {
          const size = pending.reduce((s, n) => s + 4 + n.length, 0);
          const data = new Uint8Array(size);
          const view = new DataView(data.buffer);
          let at = 0;
          for (const n of pending) {
            view.setUint32(at, n.length);
            data.set(n, at + 4);
            at += 4 + n.length;
          }
          samples.push({ data, key: type === 5 });
          pending = [];
        }
      }
    }
    expect(sps && pps).toBeTruthy();
    const avcC = Uint8Array.of(1, sps![1], sps![2], sps![3], 0xff, 0xe1, sps!.length >> 8, sps!.length & 0xff, ...sps!, 1, pps!.length >> 8, pps!.length & 0xff, ...pps!);
    const file = join(work, 'out.mp4');
    writeFileSync(file, muxMp4({ width: 64, height: 48, fps: 24, avcC }, samples));
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,nb_frames,width,height,r_frame_rate,codec_name,duration', '-of', 'json', file], { encoding: 'utf8' }),
    ).streams[0];
    expect(probe).toMatchObject({ codec_name: 'h264', width: 64, height: 48, r_frame_rate: '24/1', nb_frames: '30', nb_read_frames: '30', duration: '1.250000' });
    const keys = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    expect(Number(keys.trim())).toBe(samples.filter((s) => s.key).length);
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
    expect(decoded.length).toBe(30 * 64 * 48 * 3);
  });
});
