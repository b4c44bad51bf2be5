// The panels around the chats: which one is open (one at a time, as a dialog),
// and the reports a moderator is sent and a person made, kept live from the
// server's `report.new` and `report.resolved` events.

import { ConnectionLost, Refused } from "./connection";
import type { ChatId, Report } from "./protocol";
import type { Store } from "./store";
import { PANEL_REFUSALS, refusalText, T } from "./texts";

export type Panel =
  | { kind: "write" }
  | { kind: "group" }
  | { kind: "members"; chat: ChatId }
  | { kind: "reports" }
  | { kind: "mine" }
  | { kind: "children" }
  | { kind: "rooms"; classId?: string };

/** The Russian sentence for a failed request: never a raw code. */
export function failureText(error: unknown): string {
  if (error instanceof Refused) return PANEL_REFUSALS[error.code] ?? refusalText(error.code, error.retryAfter);
  if (error instanceof ConnectionLost) return T.reconnecting;
  return refusalText("server.internal");
}

/** Whether the signed-in person is a teacher or an admin of some school. */
export function isStaff(store: Store): boolean {
  return store.me?.roles.some((r) => r.role === "teacher" || r.role === "admin") ?? false;
}

export class Panels {
  current: Panel | null = null;
  /** Reports of the chats I moderate (open and resolved), newest first. */
  inbox: Report[] = [];
  /** Reports I made. */
  mine: Report[] = [];
  reportsLoaded = false;
  private listeners = new Set<() => void>();
  private wasOnline = false;

  constructor(readonly store: Store) {
    store.subscribe(() => {
      const online = store.connection === "online" && store.me !== null;
      if (online && !this.wasOnline) void this.loadReports(); // each (re)connection: what came meanwhile
      this.wasOnline = online;
    });
    store.onOtherEvent((event) => {
      if (event.type === "report.new") this.inbox = upsert(this.inbox, event.body.report);
      else if (event.type === "report.resolved") this.mine = upsert(this.mine, event.body.report);
      else return;
      this.changed();
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  open(panel: Panel | null): void {
    this.current = panel;
    this.changed();
  }

  /** «Жалобы» is offered to staff and to whoever has open reports to look at. */
  get showInbox(): boolean {
    return isStaff(this.store) || this.inbox.some((r) => r.status === "open");
  }

  async loadReports(): Promise<void> {
    try {
      const [inbox, mine] = await Promise.all([
        this.store.socket.request("reports", {}),
        this.store.socket.request("reports", { mine: true }),
      ]);
      this.inbox = inbox.reports;
      this.mine = mine.reports;
      this.reportsLoaded = true;
      this.changed();
    } catch {
      // the next connection loads them again
    }
  }

  /** A moderator's decision; the report comes back resolved. */
  async resolve(report: number, outcome: "dismissed" | "warned" | "removed", note: string): Promise<void> {
    const body = note.trim() === "" ? { report, outcome } : { report, outcome, note: note.trim() };
    const reply = await this.store.socket.request("report.resolve", body);
    this.inbox = upsert(this.inbox, reply.report);
    this.changed();
  }
}

function upsert(list: Report[], report: Report): Report[] {
  return [report, ...list.filter((r) => r.id !== report.id)].sort((a, b) => b.created_at - a.created_at);
}

let shared: Panels | null = null;

/** The page's one Panels, made with the store (views/shell.tsx) and reached from any view. */
export function panelsOf(store: Store): Panels {
  if (shared === null || shared.store !== store) shared = new Panels(store);
  return shared;
}
