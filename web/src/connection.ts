// The one WebSocket to the server: hello by the session cookie, requests with
// ids and their replies, events, a ping every heartbeat, and reconnecting with
// backoff. It knows nothing of chats: the store hands it the positions to
// resume from and is told of every welcome, event and state change.

import {
  decodeFrame,
  encodeFrame,
  PROTOCOL_VERSION,
  type ChatId,
  type ErrorBody,
  type Replies,
  type Requests,
  type ServerEvent,
  type Welcome,
} from "./protocol";

export type ConnectionState =
  | "connecting" // the first attempt
  | "online" // welcomed
  | "reconnecting" // lost, trying again after a backoff
  | "signed_out" // the session is gone: sign in again
  | "replaced"; // session.too_many: another of the person's devices took over

/** A request the server refused: its stable code, and `retry_after` for rate limits and mutes. */
export class Refused extends Error {
  constructor(
    readonly code: string,
    readonly retryAfter: number | undefined,
  ) {
    super(code);
  }
}

/** The socket closed before the reply came; the request may be sent again. */
export class ConnectionLost extends Error {
  constructor() {
    super("connection.lost");
  }
}

export interface ConnectionEvents {
  welcome(welcome: Welcome): void;
  event(event: ServerEvent): void;
  state(state: ConnectionState, closeCode: string | null): void;
}

interface Pending {
  type: string;
  resolve(body: unknown): void;
  reject(error: Error): void;
}

const BACKOFF_FIRST = 500; // ms
const BACKOFF_MAX = 30_000;
// Closes after which reconnecting by ourselves would be wrong.
const SIGNED_OUT = new Set(["session.expired", "auth.missing", "auth.cross_site", "auth.unknown_person"]);

export class Connection {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private welcomed = false;
  private stopped = false;
  state: ConnectionState = "connecting";

  constructor(
    private readonly url: string,
    private readonly positions: () => Record<ChatId, number> | undefined,
    private readonly on: ConnectionEvents,
  ) {}

  start(): void {
    this.stopped = false;
    window.addEventListener("online", this.reconnectNow);
    window.addEventListener("offline", this.dropNow);
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.reconnectNow);
    window.removeEventListener("offline", this.dropNow);
    clearTimeout(this.retryTimer);
    this.socket?.close(1000);
  }

  get online(): boolean {
    return this.state === "online";
  }

  /** Sends a request once the session is up; resolves with its reply's body. */
  request<T extends keyof Requests>(type: T, body: Requests[T]): Promise<Replies[T]> {
    if (!this.welcomed && type !== "hello") return Promise.reject(new ConnectionLost());
    return this.send(type, body) as Promise<Replies[T]>;
  }

  /**
   * A frame that gets no reply on success (`typing`): sent without an id, so
   * nothing waits for an answer that never comes; dropped while offline.
   */
  notify<T extends keyof Requests>(type: T, body: Requests[T]): void {
    const socket = this.socket;
    if (!this.welcomed || socket === null || socket.readyState !== WebSocket.OPEN) return;
    socket.send(encodeFrame(type, undefined, body) as Uint8Array<ArrayBuffer>);
  }

  private send(type: string, body: object): Promise<unknown> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ConnectionLost());
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { type, resolve, reject });
      socket.send(encodeFrame(type, id, body) as Uint8Array<ArrayBuffer>);
    });
  }

  // The browser says the network is gone (cable, Wi-Fi, airplane mode): a socket may
  // look open for a whole heartbeat more, so it is given up now and replies are not awaited.
  private readonly dropNow = (): void => {
    if (this.socket !== null) this.lost(this.socket, "offline");
  };

  private readonly reconnectNow = (): void => {
    if (this.state !== "reconnecting") return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open();
  };

  private open(): void {
    const socket = new WebSocket(this.url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.welcomed = false;
    let closeCode: string | null = null;
    socket.onopen = () => void this.hello();
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket || !(message.data instanceof ArrayBuffer)) return;
      const frame = decodeFrame(message.data);
      if (frame === null) return;
      if (frame.type === "goodbye") closeCode = String(frame.body?.code ?? "");
      if (typeof frame.id === "number") {
        const waiting = this.pending.get(frame.id);
        if (waiting !== undefined) {
          this.pending.delete(frame.id);
          if (frame.type === "error") {
            const error = frame.body as unknown as ErrorBody;
            waiting.reject(new Refused(error.code, error.retry_after ?? undefined));
          } else {
            waiting.resolve(frame.body);
          }
          return;
        }
      }
      this.on.event(frame as unknown as ServerEvent);
    };
    socket.onclose = (close: CloseEvent) => this.lost(socket, closeCode ?? (close.reason || null));
  }

  /** The socket is gone (closed, or given up): fail what waited on it, then reconnect or stop. */
  private lost(socket: WebSocket, reason: string | null): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.welcomed = false;
    clearInterval(this.pingTimer);
    socket.onmessage = null;
    socket.onclose = null;
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close(4000, "gone");
    }
    for (const waiting of this.pending.values()) waiting.reject(new ConnectionLost());
    this.pending.clear();
    if (this.stopped) return;
    if (reason !== null && SIGNED_OUT.has(reason)) {
      this.setState("signed_out", reason);
    } else if (reason === "session.too_many") {
      this.setState("replaced", reason);
    } else {
      this.setState("reconnecting", reason);
      const delay = Math.min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** this.attempt);
      this.attempt++;
      // Full jitter, so a school's worth of pages do not all come back at once.
      this.retryTimer = setTimeout(() => this.open(), delay / 2 + (Math.random() * delay) / 2);
    }
  }

  private async hello(): Promise<void> {
    const resume = this.positions();
    const body: Requests["hello"] = { v: PROTOCOL_VERSION, client: "web/0.1.0" };
    if (resume !== undefined) body.resume = resume;
    let welcome: Welcome;
    try {
      welcome = (await this.send("hello", body)) as Welcome;
    } catch {
      return; // refused hellos close the socket; onclose decides what follows
    }
    this.welcomed = true;
    this.attempt = 0;
    this.startPings(welcome.heartbeat);
    this.setState("online", null);
    this.on.welcome(welcome);
  }

  /** Browsers hide WebSocket pings: a `ping` every heartbeat, and no `pong` in time is a dead link. */
  private startPings(heartbeat: number): void {
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.pingTimer = setInterval(() => {
      const timeout = setTimeout(() => socket && this.lost(socket, "pong.timeout"), heartbeat * 1000);
      this.request("ping", {}).then(
        () => clearTimeout(timeout),
        () => clearTimeout(timeout),
      );
    }, heartbeat * 1000);
  }

  private setState(state: ConnectionState, closeCode: string | null): void {
    this.state = state;
    this.on.state(state, closeCode);
  }
}
