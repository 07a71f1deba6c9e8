import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitUntil, WillNotBeReady } from './readiness.js';
import { freePort, startLiveKit } from './servers.js';

describe('waiting for a server to be ready', () => {
  it('keeps asking through failed probes until one says ready', async () => {
    let asked = 0;
    await waitUntil('flaky', async () => {
      asked += 1;
      if (asked === 1) throw new Error('connection refused');
      return asked >= 3;
    }, 5_000);
    expect(asked).toBe(3);
  });

  it('ends the wait at once when a probe knows the server will never be ready', async () => {
    const started = performance.now();
    await expect(
      waitUntil('doomed', async () => {
        throw new WillNotBeReady('it exited');
      }, 30_000),
    ).rejects.toThrow('it exited');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('names what was never ready when time runs out', async () => {
    await expect(waitUntil('the slow one', async () => false, 300)).rejects.toThrow('the slow one was not ready after 300 ms');
  });

  it("refuses to start livekit-server when its ICE/TCP port is taken, instead of a server that can't carry calls", async () => {
    const taken = await listen(await freePort());
    try {
      const rtcTcpPort = (taken.address() as { port: number }).port;
      const ports = { port: await freePort(), rtcTcpPort, udpPortStart: 51000, udpPortEnd: 51010, redisAddress: '127.0.0.1:1' };
      await expect(startLiveKit({ ports, apiKey: 'k', apiSecret: 's'.repeat(32) })).rejects.toThrow(`port ${rtcTcpPort} is already in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
