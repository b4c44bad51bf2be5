// The page's one source of truth: the chats, their messages, the positions
// to resume from and the outbox of messages not yet acknowledged. Server
// events and the outbox feed it; the view renders from it and subscribes.

import { Connection, ConnectionLost, Refused, type ConnectionState } from "./connection";
import { OutboxDb } from "./outbox";
import type { ChatEventBody, ChatId, ChatSummary, Oid, ServerEvent, Welcome } from "./protocol";

export interface Message {
  id: number; // the message_id: the seq of the event that posted it
  author: Oid | null;
  at: number;
  text: string;
  replyTo: number | null;
  edited: boolean;
  deleted: boolean;
}

export interface ChatView {
  summary: ChatSummary;
  messages: Map<number, Message>;
  loaded: boolean; // its latest page of history has been read
  more: boolean; // older history remains
  loadingOlder: boolean;
}

export interface Outgoing {
  key: string; // the idempotency key, kept across retries
  chat: ChatId;
  text: string;
  since: number; // the chat's position when it was written: its echo can only come later
  written: number; // ms since the epoch
  state: "pending" | "refused";
  refusal: { code: string; retryAfter: number | undefined } | null;
}

const HISTORY_PAGE = 50;

export class Store {
  me: Welcome["profile"] | null = null;
  connection: ConnectionState = "connecting";
  chats = new Map<ChatId, ChatView>();
  chatsLoaded = false;
  openChat: ChatId | null = null;
  outbox: Outgoing[] = [];
  private positions = new Map<ChatId, number>();
  private acked = new Set<string>(); // `chat seq` of the messages our acks named (each claims its own echo)
  private listeners = new Set<() => void>();
  readonly socket: Connection;
  private readonly stored = new OutboxDb();
  private restored = false; // the outbox of earlier pages has been read back

  constructor(url: string) {
    this.socket = new Connection(url, () => this.resumeFrom(), {
      welcome: (w) => void this.onWelcome(w),
      event: (e) => this.onEvent(e),
      state: (s) => {
        this.connection = s;
        this.changed();
      },
    });
  }

  start(): void {
    this.socket.start();
    // Messages that came while the tab was hidden count as unread until it is seen again.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.openChat !== null) {
        this.markRead(this.openChat);
        this.changed();
      }
    });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Chats, the most recently active first. */
  sortedChats(): ChatView[] {
    return [...this.chats.values()].sort(
      (a, b) => activity(b.summary) - activity(a.summary),
    );
  }

  // -- connection ---------------------------------------------------------------------

  /** The positions for `hello.resume`; none before the chat list is known (live only). */
  private resumeFrom(): Record<ChatId, number> | undefined {
    if (!this.chatsLoaded) return undefined;
    return Object.fromEntries(this.positions);
  }

  private async onWelcome(welcome: Welcome): Promise<void> {
    this.me = welcome.profile;
    if (!this.restored) {
      this.restored = true;
      // What this person wrote on an earlier page and the server never acknowledged.
      for (const row of await this.stored.all(welcome.profile.person.oid)) {
        if (this.outbox.some((o) => o.key === row.key)) continue;
        this.outbox.push({ ...row, state: "pending", refusal: null });
      }
      this.outbox.sort((a, b) => a.written - b.written);
    }
    this.changed();
    this.flushOutbox();
    try {
      const { chats } = await this.socket.request("chats", {});
      for (const summary of chats) this.upsertSummary(summary);
      this.chatsLoaded = true;
      this.changed();
      if (this.openChat !== null) await this.loadLatest(this.openChat);
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
    }
  }

  private upsertSummary(summary: ChatSummary): void {
    const known = this.chats.get(summary.id);
    // The position starts at the summary's last seq: its history is paged by `history`.
    this.positions.set(summary.id, Math.max(this.positions.get(summary.id) ?? 0, summary.last_seq));
    if (known === undefined) {
      this.chats.set(summary.id, {
        summary,
        messages: new Map(),
        loaded: false,
        more: true,
        loadingOlder: false,
      });
    } else {
      known.summary = summary;
    }
  }

  private onEvent(event: ServerEvent): void {
    switch (event.type) {
      case "chat.event":
        this.applyLive({ ...event.body, author: event.body.author ?? null });
        break;
      case "gap": {
        // Events from_seq … to_seq will not come: page them with `history` if the chat is open.
        const { chat, to_seq } = event.body;
        this.positions.set(chat, Math.max(this.positions.get(chat) ?? 0, to_seq));
        const view = this.chats.get(chat);
        if (view !== undefined) {
          view.loaded = false;
          if (this.openChat === chat) void this.loadLatest(chat);
        }
        break;
      }
      case "chat.removed":
        this.chats.delete(event.body.chat);
        this.positions.delete(event.body.chat);
        if (this.openChat === event.body.chat) this.openChat = null;
        break;
      default:
        for (const listener of this.otherListeners) listener(event);
        return; // other events (typing, presence, receipts…) are not shown yet
    }
    this.changed();
  }

  private applyLive(event: ChatEventBody): void {
    const position = this.positions.get(event.chat) ?? 0;
    if (event.seq <= position) return; // seen already (a resume never repeats, a sync may)
    this.positions.set(event.chat, event.seq);
    const view = this.chats.get(event.chat);
    if (view === undefined) {
      // A chat we were just added to: its summary comes with the next list.
      void this.refreshChats();
      return;
    }
    view.summary.last_seq = Math.max(view.summary.last_seq, event.seq);
    this.apply(view, event);
    if (event.kind === "message" && !event.data.deleted) {
      view.summary.last_message = event;
      const mine = event.author === this.me?.person.oid;
      if (this.openChat === event.chat && document.visibilityState === "visible") {
        this.markRead(event.chat);
      } else if (!mine) {
        view.summary.unread++;
      }
    }
  }

  private async refreshChats(): Promise<void> {
    try {
      const { chats } = await this.socket.request("chats", {});
      for (const summary of chats) this.upsertSummary(summary);
      this.changed();
    } catch {
      // the next welcome lists the chats again
    }
  }

  /** One event into a chat's messages (from live delivery or history: the same code). */
  private apply(view: ChatView, event: ChatEventBody): void {
    const data = event.data;
    const id = typeof data.id === "number" ? data.id : event.seq;
    const message = view.messages.get(id);
    switch (event.kind) {
      case "message":
        view.messages.set(id, {
          id,
          author: event.author,
          at: event.at,
          text: typeof data.text === "string" ? data.text : "",
          replyTo: typeof data.reply_to === "number" ? data.reply_to : null,
          edited: message?.edited ?? false,
          deleted: data.deleted === true,
        });
        break;
      case "edit":
        if (message !== undefined && typeof data.text === "string") {
          message.text = data.text;
          message.edited = true;
        }
        if (message !== undefined && data.deleted === true) message.deleted = true;
        break;
      case "delete":
        if (message !== undefined) {
          message.deleted = true;
          message.text = "";
        }
        break;
      default:
        break; // reactions, members, moderation: counted as seen, not shown yet
    }
  }

  // -- history --------------------------------------------------------------------------

  open(chat: ChatId | null): void {
    this.openChat = chat;
    this.changed();
    if (chat !== null) void this.loadLatest(chat);
  }

  private async loadLatest(chat: ChatId): Promise<void> {
    const view = this.chats.get(chat);
    if (view === undefined || !this.socket.online) return;
    try {
      const page = await this.socket.request("history", { chat, limit: HISTORY_PAGE });
      for (const event of page.events) this.apply(view, event);
      if (!view.loaded) view.more = page.more;
      view.loaded = true;
      this.changed();
      this.markRead(chat);
    } catch (error) {
      if (!(error instanceof ConnectionLost || error instanceof Refused)) throw error;
    }
  }

  /** The page before the oldest message shown; true when one was loaded. */
  async loadOlder(chat: ChatId): Promise<boolean> {
    const view = this.chats.get(chat);
    if (view === undefined || !view.more || view.loadingOlder || !this.socket.online) return false;
    const oldest = Math.min(...view.messages.keys(), view.summary.last_seq + 1);
    view.loadingOlder = true;
    this.changed();
    try {
      const page = await this.socket.request("history", { chat, before: oldest, limit: HISTORY_PAGE });
      for (const event of page.events) this.apply(view, event);
      view.more = page.more;
      return page.events.length > 0;
    } catch {
      return false;
    } finally {
      view.loadingOlder = false;
      this.changed();
    }
  }

  private markRead(chat: ChatId): void {
    const view = this.chats.get(chat);
    if (view === undefined || view.summary.read_seq >= view.summary.last_seq) return;
    const seq = view.summary.last_seq;
    view.summary.read_seq = seq;
    view.summary.unread = 0;
    this.socket.request("read", { chat, seq }).catch(() => undefined);
  }

  // -- sending --------------------------------------------------------------------------

  /**
   * The outbox entries of a chat still to show. The server may send the
   * message's own event before its ack: an entry whose echo (a message of
   * ours, after it was written, with its text, not yet claimed by an ack)
   * is already in the chat is not shown twice.
   */
  unconfirmed(chat: ChatId): Outgoing[] {
    const view = this.chats.get(chat);
    const me = this.me?.person.oid;
    const claimed = new Set<number>();
    for (const name of this.acked) if (name.startsWith(`${chat} `)) claimed.add(Number(name.slice(chat.length + 1)));
    return this.outbox.filter((o) => {
      if (o.chat !== chat || o.state !== "pending" || view === undefined) return o.chat === chat;
      for (const m of view.messages.values()) {
        if (m.author === me && m.id > o.since && m.text === o.text && !claimed.has(m.id)) {
          claimed.add(m.id);
          return false;
        }
      }
      return true;
    });
  }

  sendMessage(chat: ChatId, text: string): void {
    if (text.trim() === "") return;
    const person = this.me?.person.oid;
    if (person === undefined) return;
    const since = this.positions.get(chat) ?? 0;
    const entry = { key: crypto.randomUUID(), chat, since, text, written: Date.now() };
    const outgoing: Outgoing = { ...entry, state: "pending", refusal: null };
    this.outbox.push(outgoing);
    this.changed();
    // On disk before it is sent, so a reload in between sends it again (the key keeps it single).
    void this.stored.put({ ...entry, person }).then(() => this.deliver(outgoing));
  }

  retry(key: string): void {
    const outgoing = this.outbox.find((o) => o.key === key);
    if (outgoing === undefined) return;
    outgoing.state = "pending";
    outgoing.refusal = null;
    this.changed();
    const person = this.me?.person.oid;
    if (person === undefined) return;
    const { chat, text, since, written } = outgoing;
    void this.stored.put({ key, person, chat, text, since, written }).then(() => this.deliver(outgoing));
  }

  dismiss(key: string): void {
    this.outbox = this.outbox.filter((o) => o.key !== key);
    void this.stored.delete(key);
    this.changed();
  }

  /** Every pending message again, with its own key: the server stores each one once. */
  private flushOutbox(): void {
    for (const outgoing of this.outbox) if (outgoing.state === "pending") void this.deliver(outgoing);
  }

  private async deliver(outgoing: Outgoing): Promise<void> {
    if (!this.socket.online) return; // the next welcome sends it
    try {
      const ack = await this.socket.request("send", {
        chat: outgoing.chat,
        text: outgoing.text,
        key: outgoing.key,
      });
      this.acked.add(`${ack.chat} ${ack.message_id}`);
      const view = this.chats.get(ack.chat);
      if (view !== undefined && !view.messages.has(ack.message_id)) {
        // The ack may come before the event; the event, when it comes, replaces this copy.
        view.messages.set(ack.message_id, {
          id: ack.message_id,
          author: this.me?.person.oid ?? null,
          at: Date.now() / 1000,
          text: outgoing.text,
          replyTo: null,
          edited: false,
          deleted: false,
        });
      }
      this.outbox = this.outbox.filter((o) => o !== outgoing);
      void this.stored.delete(outgoing.key);
    } catch (error) {
      if (error instanceof ConnectionLost) return; // still pending: sent again on the next welcome
      if (!(error instanceof Refused)) throw error;
      outgoing.state = "refused";
      outgoing.refusal = { code: error.code, retryAfter: error.retryAfter };
      void this.stored.delete(outgoing.key); // shown with its reason now; not sent again by itself
    }
    this.changed();
  }

  // -- for the panels (web/src/panels.ts) ------------------------------------------------

  private otherListeners = new Set<(event: ServerEvent) => void>();

  /** Server events the store does not keep (`report.new`, `report.resolved`…), as they come. */
  onOtherEvent(listener: (event: ServerEvent) => void): () => void {
    this.otherListeners.add(listener);
    return () => this.otherListeners.delete(listener);
  }

  /** A chat named by a reply (`direct.open`, `group.create`): into the list, and opened. */
  openSummary(summary: ChatSummary): void {
    this.upsertSummary(summary);
    this.open(summary.id);
  }
}

function activity(summary: ChatSummary): number {
  return summary.last_message?.at ?? 0;
}
