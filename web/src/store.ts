// The page's one source of truth: the chats, their messages, the positions
// to resume from and the outbox of messages not yet acknowledged. Server
// events and the outbox feed it; the view renders from it and subscribes.

import { Connection, ConnectionLost, Refused, type ConnectionState } from "./connection";
import { OutboxDb } from "./outbox";
import { chatInUrl, showInUrl } from "./place";
import type {
  ChatDetails,
  ChatEventBody,
  ChatId,
  ChatSummary,
  MemberEntry,
  Oid,
  PresenceEntry,
  ServerEvent,
  Welcome,
} from "./protocol";
import { refusalText, T } from "./texts";

export interface Message {
  id: number; // the message_id: the seq of the event that posted it
  author: Oid | null;
  at: number;
  text: string;
  replyTo: number | null;
  edited: boolean;
  deleted: boolean;
}

/** One person's latest reaction event with one emoji on one message: the highest seq wins. */
interface ReactionMark {
  seq: number;
  on: boolean;
}

/** A change to a message not loaded yet (history pages come newest first): applied when it loads. */
interface LaterChange {
  seq: number;
  text: string | null;
  deleted: boolean;
}

export interface ChatView {
  summary: ChatSummary;
  messages: Map<number, Message>;
  loaded: boolean; // its latest page of history has been read
  more: boolean; // older history remains
  loadingOlder: boolean;
  // message id → emoji → person → their latest reaction event. Kept apart from the
  // messages so that a reaction seen before its message (a later history page) waits for it.
  reactions: Map<number, Map<string, Map<Oid, ReactionMark>>>;
  later: Map<number, LaterChange>;
  // Read positions other members' `receipt` events told this page. History says
  // nothing of earlier reads, so «прочитано» shows only what was told since the page opened.
  receipts: Map<Oid, number>;
  typing: Map<Oid, number>; // person → until (ms since the epoch)
  unreadAfter: number | null; // the read position when the chat was opened with unread messages
}

export interface Outgoing {
  key: string; // the idempotency key, kept across retries
  chat: ChatId;
  text: string;
  replyTo?: number | null;
  since: number; // the chat's position when it was written: its echo can only come later
  written: number; // ms since the epoch
  state: "pending" | "refused";
  refusal: { code: string; retryAfter: number | undefined } | null;
}

const HISTORY_PAGE = 50;
const TYPING_EVERY = 3000; // ms between our `typing` frames while the person types
const TYPING_SHOWN = 5000; // ms «печатает…» stays after someone's last `typing`

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
  details = new Map<ChatId, ChatDetails>();
  private presence = new Map<Oid, PresenceEntry>();
  private typingSent = new Map<ChatId, number>();
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  replying = new Map<ChatId, number>(); // the message the composer answers
  notice: { chat: ChatId; text: string } | null = null; // the last refusal of an action, in Russian

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
    this.openChat = chatInUrl();
    // The phone's back button (and «forward»): the URL says which chat is open.
    window.addEventListener("popstate", () => this.show(chatInUrl()));
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
      this.presence.clear(); // what was told before this connection may have changed
      this.changed();
      void this.loadPeersPresence();
      // The chat open before the connection came (back), or named by the URL.
      if (this.openChat !== null) await Promise.all([this.loadLatest(this.openChat), this.loadDetails(this.openChat)]);
    } catch (error) {
      if (!(error instanceof ConnectionLost)) throw error;
    }
  }

  /** Who of the people one has direct chats with is online, for the list's dots;
   * `presence` events keep it right from then on. Asked for those not known yet:
   * all on a welcome (its state was cleared), new chats' peers after that. */
  private async loadPeersPresence(): Promise<void> {
    const peers = [...this.chats.values()].flatMap((v) =>
      v.summary.peer == null || this.presence.has(v.summary.peer) ? [] : [v.summary.peer],
    );
    if (peers.length === 0) return;
    try {
      const { people } = await this.socket.request("presence.query", { people: peers.slice(0, 500) });
      for (const entry of people) this.presence.set(entry.person, entry);
      this.changed();
    } catch {
      // offline again: asked on the next welcome
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
        reactions: new Map(),
        later: new Map(),
        receipts: new Map(),
        typing: new Map(),
        unreadAfter: null,
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
      case "typing": {
        const { chat, person } = event.body;
        const view = this.chats.get(chat);
        if (view === undefined || person === this.me?.person.oid) return;
        view.typing.set(person, Date.now() + TYPING_SHOWN);
        this.expireTyping();
        break;
      }
      case "receipt": {
        const { chat, person, seq } = event.body;
        const view = this.chats.get(chat);
        if (view === undefined) return;
        if (person === this.me?.person.oid) {
          // Read on another tab or device of ours: the same chat is read here too.
          if (seq <= view.summary.read_seq) return;
          view.summary.read_seq = seq;
          if (seq >= view.summary.last_seq) view.summary.unread = 0;
          else void this.refreshChat(chat); // the server counts what is still unread
          break;
        }
        view.receipts.set(person, Math.max(view.receipts.get(person) ?? 0, seq));
        break;
      }
      case "presence":
        this.presence.set(event.body.person, {
          person: event.body.person,
          online: event.body.online,
          last_seen: event.body.last_seen ?? null,
        });
        break;
      case "chat.removed":
        this.chats.delete(event.body.chat);
        this.positions.delete(event.body.chat);
        if (this.openChat === event.body.chat) this.open(null);
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
    if ((event.kind === "members" || event.kind === "moderation") && this.details.has(event.chat)) {
      void this.loadDetails(event.chat);
    }
    if (event.kind === "message" && event.author !== null) view.typing.delete(event.author);
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

  private async refreshChat(chat: ChatId): Promise<void> {
    try {
      const { chat: summary } = await this.socket.request("chat.get", { chat });
      // Only the counts: the position stays what the events on this socket made it.
      const view = this.chats.get(chat);
      if (view === undefined) return;
      view.summary.read_seq = Math.max(view.summary.read_seq, summary.read_seq);
      view.summary.unread = summary.unread;
      this.changed();
    } catch {
      // gone or offline: the next welcome lists the chats again
    }
  }

  private async refreshChats(): Promise<void> {
    try {
      const { chats } = await this.socket.request("chats", {});
      for (const summary of chats) this.upsertSummary(summary);
      this.changed();
      void this.loadPeersPresence();
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
      case "message": {
        const later = view.later.get(id);
        view.later.delete(id);
        const deleted = data.deleted === true || message?.deleted === true || later?.deleted === true;
        const text = later?.text ?? (message?.edited ? message.text : null) ?? data.text;
        view.messages.set(id, {
          id,
          author: event.author,
          at: event.at,
          text: deleted || typeof text !== "string" ? "" : text,
          replyTo: typeof data.reply_to === "number" ? data.reply_to : null,
          edited: (message?.edited ?? false) || (later?.text ?? null) !== null,
          deleted,
        });
        break;
      }
      case "edit":
      case "delete": {
        const deleted = event.kind === "delete" || data.deleted === true;
        const text = !deleted && typeof data.text === "string" ? data.text : null;
        if (message !== undefined) {
          if (text !== null && !message.deleted) {
            message.text = text;
            message.edited = true;
          }
          if (deleted) {
            message.deleted = true;
            message.text = "";
          }
        } else {
          const known = view.later.get(id);
          view.later.set(id, {
            seq: Math.max(known?.seq ?? 0, event.seq),
            text: known !== undefined && known.seq > event.seq ? known.text : (text ?? known?.text ?? null),
            deleted: deleted || known?.deleted === true,
          });
        }
        break;
      }
      case "reaction": {
        if (event.author === null || typeof data.emoji !== "string") break;
        let emojis = view.reactions.get(id);
        if (emojis === undefined) view.reactions.set(id, (emojis = new Map()));
        let people = emojis.get(data.emoji);
        if (people === undefined) emojis.set(data.emoji, (people = new Map()));
        const known = people.get(event.author);
        if (known === undefined || known.seq < event.seq) people.set(event.author, { seq: event.seq, on: data.on !== false });
        break;
      }
      default:
        break; // reactions, members, moderation: counted as seen, not shown yet
    }
  }

  // -- history --------------------------------------------------------------------------

  open(chat: ChatId | null): void {
    showInUrl(chat);
    this.show(chat);
  }

  private show(chat: ChatId | null): void {
    this.openChat = chat;
    this.notice = null;
    const view = chat === null ? undefined : this.chats.get(chat);
    // Where «Новые сообщения» goes: after what was read when the chat was opened.
    if (view !== undefined) view.unreadAfter = view.summary.unread > 0 ? view.summary.read_seq : null;
    this.changed();
    if (chat !== null) {
      void this.loadLatest(chat);
      void this.loadDetails(chat);
    }
  }

  /** Who is in the chat, who moderates it, its pin and mutes; then the direct partner's presence. */
  async loadDetails(chat: ChatId): Promise<void> {
    if (!this.socket.online) return;
    try {
      const details = await this.socket.request("chat.details", { chat });
      this.details.set(chat, details);
      this.changed();
      const view = this.chats.get(chat);
      if (view?.summary.kind === "direct") {
        const others = details.members.map((m) => m.oid).filter((oid) => oid !== this.me?.person.oid);
        if (others.length > 0) {
          const { people } = await this.socket.request("presence.query", { people: others });
          for (const entry of people) this.presence.set(entry.person, entry);
          this.changed();
        }
      }
    } catch (error) {
      if (!(error instanceof ConnectionLost || error instanceof Refused)) throw error;
    }
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

  // -- what the views ask --------------------------------------------------------------

  member(chat: ChatId, oid: Oid | null): MemberEntry | undefined {
    if (oid === null) return undefined;
    return this.details.get(chat)?.members.find((m) => m.oid === oid);
  }

  /** The person's full name as the chat's details give it, or null until they are known. */
  nameOf(chat: ChatId, oid: Oid | null): string | null {
    return this.member(chat, oid)?.full_name ?? null;
  }

  /** Whether a person is online and when last seen, as far as this page was told. */
  presenceOf(oid: Oid): PresenceEntry | undefined {
    return this.presence.get(oid);
  }

  /** The other member of a direct chat. */
  /** The other person of a direct chat: its summary says (`peer`). */
  partner(chat: ChatId): Oid | null {
    return this.chats.get(chat)?.summary.peer ?? null;
  }

  /** Reactions on a message that are on now: emoji → the people, in the order first seen. */
  reactionsOf(view: ChatView, id: number): [string, Oid[]][] {
    const out: [string, Oid[]][] = [];
    for (const [emoji, people] of view.reactions.get(id) ?? []) {
      const on = [...people].filter(([, mark]) => mark.on).map(([oid]) => oid);
      if (on.length > 0) out.push([emoji, on]);
    }
    return out;
  }

  /** Whether another member's receipt (told to this page) reached the message. */
  readByOthers(view: ChatView, id: number): boolean {
    for (const seq of view.receipts.values()) if (seq >= id) return true;
    return false;
  }

  /** The people typing in the chat now, by oid. */
  typingIn(view: ChatView): Oid[] {
    const now = Date.now();
    return [...view.typing].filter(([, until]) => until > now).map(([oid]) => oid);
  }

  /** Until when (unix seconds) I may not write here, or null. */
  mutedUntil(chat: ChatId): number | null {
    const until = this.details.get(chat)?.muted_until ?? null;
    return until !== null && until > Date.now() / 1000 ? until : null;
  }

  private expireTyping(): void {
    clearTimeout(this.typingTimer);
    let next = Infinity;
    const now = Date.now();
    for (const view of this.chats.values()) {
      for (const [oid, until] of view.typing) {
        if (until <= now) view.typing.delete(oid);
        else next = Math.min(next, until);
      }
    }
    if (next !== Infinity) {
      this.typingTimer = setTimeout(() => {
        this.expireTyping();
        this.changed();
      }, next - now + 20);
    }
  }

  /** The person types: tell the others, at most every few seconds. */
  typing(chat: ChatId): void {
    const now = Date.now();
    if (now - (this.typingSent.get(chat) ?? 0) < TYPING_EVERY || !this.socket.online) return;
    this.typingSent.set(chat, now);
    this.socket.notify("typing", { chat }); // no reply: a request would wait forever
  }

  reply(chat: ChatId, id: number | null): void {
    if (id === null) this.replying.delete(chat);
    else this.replying.set(chat, id);
    this.changed();
  }

  dismissNotice(): void {
    this.notice = null;
    this.changed();
  }

  /** One request that changes the chat; a refusal becomes the chat's notice. True when done. */
  private async act(chat: ChatId, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      if (this.notice?.chat === chat) this.notice = null;
      return true;
    } catch (error) {
      if (error instanceof Refused) {
        this.notice = { chat, text: refusalText(error.code, error.retryAfter) };
        this.refused(chat, error);
      } else if (error instanceof ConnectionLost) {
        this.notice = { chat, text: T.actionLost };
      } else {
        throw error;
      }
      return false;
    } finally {
      this.changed();
    }
  }

  /** A mute learnt from a refusal: the composer says until when. */
  private refused(chat: ChatId, error: Refused): void {
    const details = this.details.get(chat);
    if (error.code === "moderation.muted" && details !== undefined && error.retryAfter !== undefined) {
      details.muted_until = Date.now() / 1000 + error.retryAfter;
    }
  }

  edit(chat: ChatId, id: number, text: string): Promise<boolean> {
    return this.act(chat, () => this.socket.request("edit", { chat, message_id: id, text, key: crypto.randomUUID() }));
  }

  remove(chat: ChatId, id: number): Promise<boolean> {
    return this.act(chat, () => this.socket.request("delete", { chat, message_id: id, key: crypto.randomUUID() }));
  }

  react(chat: ChatId, id: number, emoji: string, on: boolean): Promise<boolean> {
    return this.act(chat, () =>
      this.socket.request("react", { chat, message_id: id, emoji, on, key: crypto.randomUUID() }),
    );
  }

  report(chat: ChatId, id: number, reason: string): Promise<boolean> {
    return this.act(chat, () => this.socket.request("report.create", { chat, message_id: id, reason }));
  }

  moderateDelete(chat: ChatId, id: number): Promise<boolean> {
    return this.act(chat, () =>
      this.socket.request("moderation.delete", { chat, message_id: id, key: crypto.randomUUID() }),
    );
  }

  pin(chat: ChatId, id: number | null): Promise<boolean> {
    return this.act(chat, () => this.socket.request("moderation.pin", { chat, message_id: id }));
  }

  mute(chat: ChatId, person: Oid, seconds: number): Promise<boolean> {
    return this.act(chat, () => this.socket.request("moderation.mute", { chat, person, seconds }));
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
    const replyTo = this.replying.get(chat) ?? null;
    this.replying.delete(chat);
    const entry = { key: crypto.randomUUID(), chat, since, text, replyTo, written: Date.now() };
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
    const { chat, text, since, written, replyTo } = outgoing;
    void this.stored.put({ key, person, chat, text, since, written, replyTo: replyTo ?? null }).then(() => this.deliver(outgoing));
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
        reply_to: outgoing.replyTo ?? null,
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
          replyTo: outgoing.replyTo ?? null,
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
      this.refused(outgoing.chat, error);
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
