// Container health without a fixed port: workers share the host network under `--scale`, so each
// picks its own health port. Healthy = the container's main process (PID 1) holds an established
// TCP connection to the port in HEALTHCHECK_PORT (livekit-server's 7880 for workers: the worker's
// registration socket; Redis's 6379 for crm-sync).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const port = Number(process.env.HEALTHCHECK_PORT ?? 7880);
const ESTABLISHED = '01';

const inodes = new Set();
for (const fd of readdirSync('/proc/1/fd')) {
  try {
    const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/1/fd/${fd}`));
    if (match) inodes.add(match[1]);
  } catch {
    // fds come and go while we read
  }
}
const connected = ['/proc/net/tcp', '/proc/net/tcp6'].some((table) =>
  readFileSync(table, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .some((cols) => cols.length > 9 && Number.parseInt(cols[2].split(':')[1], 16) === port && cols[3] === ESTABLISHED && inodes.has(cols[9])),
);
if (!connected) {
  console.error(`no established connection to port ${port} from the main process`);
  process.exit(1);
}
