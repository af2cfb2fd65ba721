import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../src/config.js';

const TOKEN = { DA3_TOKEN: 't'.repeat(24) };

describe('gpu-worker configuration from the environment', () => {
  it('defaults: DA3-SMALL, auto device, loopback:8008, /data folders', () => {
    expect(readConfig(TOKEN)).toMatchObject({
      model: 'depth-anything/DA3-SMALL',
      device: 'auto',
      dtype: 'fp32',
      host: '127.0.0.1',
      port: 8008,
      cacheDir: '/data/cache',
      stateDir: '/data/state',
      maxQueue: 16,
      graceMs: 120_000,
      localFilesOnly: false,
    });
  });

  it('reads every variable', () => {
    const c = readConfig({
      ...TOKEN,
      DA3_MODEL: '/models/da3',
      DA3_DEVICE: 'cuda',
      DA3_DTYPE: 'fp16',
      HOST: '0.0.0.0',
      PORT: '9000',
      DA3_MAX_QUEUE: '4',
      DA3_ALLOWED_HOSTS: 'a.example, *.r2.cloudflarestorage.com',
      DA3_ALLOWED_ORIGINS: 'https://app.example',
      DA3_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      HF_HUB_OFFLINE: '1',
    });
    expect(c).toMatchObject({ model: '/models/da3', device: 'cuda', dtype: 'fp16', host: '0.0.0.0', port: 9000, maxQueue: 4, localFilesOnly: true });
    expect(c.allowedHosts).toEqual(['a.example', '*.r2.cloudflarestorage.com']);
    expect(c.allowedOrigins).toEqual(['https://app.example']);
  });

  it('a bad value stops the worker with the variable named', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /^DA3_TOKEN: a bearer token of at least 16 characters/],
      [{ DA3_TOKEN: 'short' }, /^DA3_TOKEN/],
      [{ ...TOKEN, PORT: '70000' }, /^PORT: must be an integer in \[0, 65535\], got "70000"/],
      [{ ...TOKEN, DA3_MAX_QUEUE: '0' }, /^DA3_MAX_QUEUE/],
      [{ ...TOKEN, DA3_DEVICE: 'tpu' }, /^DA3_DEVICE: must be one of auto, cuda, cpu/],
      [{ ...TOKEN, DA3_WEBHOOK_SECRET: 'secret' }, /^DA3_WEBHOOK_SECRET/],
    ];
    for (const [env, message] of cases) {
      expect(() => readConfig(env)).toThrowError(ConfigError);
      expect(() => readConfig(env)).toThrowError(message);
    }
  });
});
