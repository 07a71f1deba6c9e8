import { randomInt } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TicketPort, TicketRequest } from '../../agents/support-triage/tickets.js';

/**
 * Tickets appended to a local JSON-lines file, fsync'd before the caller hears the ticket number:
 * a number read out is a ticket that exists.
 */
export class FileTickets implements TicketPort {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async create(request: TicketRequest & { callId: string }): Promise<{ ticketId: string }> {
    const ticketId = `TK-${randomInt(100_000, 1_000_000)}`;
    await mkdir(dirname(this.#path), { recursive: true });
    const file = await open(this.#path, 'a');
    try {
      await file.writeFile(`${JSON.stringify({ ticketId, createdAt: new Date().toISOString(), ...request })}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    return { ticketId };
  }
}
