/**
 * livekit-server's configuration, written from one place: `livekit.yaml` at the root is this
 * function's output for the default ports (a test holds them equal), and the fleet and tests
 * derive their own from the same code. Keys never go in the file: LIVEKIT_KEYS carries them.
 */
export interface LiveKitPorts {
  /** HTTP / WebSocket signalling. */
  port: number;
  /** ICE over TCP, for networks that block UDP. */
  rtcTcpPort: number;
  udpPortStart: number;
  udpPortEnd: number;
  redisAddress: string;
}

export const DEFAULT_LIVEKIT_PORTS: LiveKitPorts = {
  port: 7880,
  rtcTcpPort: 7881,
  udpPortStart: 50000,
  udpPortEnd: 50100,
  redisAddress: '127.0.0.1:6379',
};

export function livekitConfigYaml(p: LiveKitPorts): string {
  return `# livekit-server configuration for the local fleet (written by scripts/fleet/livekit-config.ts).
# API keys come from the LIVEKIT_KEYS environment variable ("key: secret"), never from this file.
port: ${p.port}
bind_addresses:
  - 127.0.0.1
rtc:
  tcp_port: ${p.rtcTcpPort}
  port_range_start: ${p.udpPortStart}
  port_range_end: ${p.udpPortEnd}
  use_external_ip: false
  node_ip: 127.0.0.1
redis:
  address: ${p.redisAddress}
logging:
  json: true
  level: info
`;
}
