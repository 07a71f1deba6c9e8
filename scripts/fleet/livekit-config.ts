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
  /** Where livekit-server posts room and participant events (signed with this API key). */
  webhook?: { url: string; apiKey: string };
}

export const DEFAULT_LIVEKIT_PORTS: LiveKitPorts = {
  port: 7880,
  rtcTcpPort: 7881,
  udpPortStart: 50000,
  udpPortEnd: 50100,
  redisAddress: '127.0.0.1:6379',
  // The crm-sync process receives them (VOICEFLEET_WEBHOOK_PORT); the key is the dev key's name.
  webhook: { url: 'http://127.0.0.1:8090/livekit/webhook', apiKey: 'devkey' },
};

export function livekitConfigYaml(p: LiveKitPorts): string {
  return `# livekit-server configuration for the local fleet (written by scripts/fleet/livekit-config.ts).
# API secrets come from the LIVEKIT_KEYS environment variable ("key: secret"), never from this file;
# the webhook section names the key its requests are signed with.
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
${
  p.webhook
    ? `webhook:
  api_key: ${p.webhook.apiKey}
  urls:
    - ${p.webhook.url}
`
    : ''
}`;
}
