/** Types for lease-connection.mjs (plain JavaScript, loaded by the alive-lease thread). */
export type Reply = string | number | null | Error | Reply[];
export type Command = readonly (string | number)[];

export function encodeCommand(args: Command): string;
export function parseReplies(buffer: Buffer): { replies: Reply[]; used: number };
export function connectionOptions(redisUrl: string): { host: string; port: number; tls: boolean; username?: string; password?: string; db: number };

export class LeaseConnection {
  constructor(redisUrl: string, options: { connectTimeoutMs?: number; onReady?: (clientId: string) => void });
  readonly ready: boolean;
  send(commands: readonly Command[]): Promise<Reply[]>;
  close(): void;
}
